// The variables tests/compat/run.sh exports, read once with a clear failure if missing.

export function env(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run these tests through tests/compat/run.sh`);
  }
  return value;
}
