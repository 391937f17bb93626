//! The `Upstash-Retry-Delay` expression: arithmetic in milliseconds over the
//! variable `retried`.
//!
//! # Grammar
//!
//! ```text
//! expr    = term   { ("+" | "-") term }
//! term    = unary  { ("*" | "/" | "%") unary }
//! unary   = "-" unary | primary
//! primary = number | "retried" | name "(" expr { "," expr } ")" | "(" expr ")"
//! number  = digit { digit } [ "." digit { digit } ]
//! ```
//!
//! Binary operators are left-associative; whitespace may appear between
//! tokens. The functions are `pow(x, y)`, `exp(x)`, `sqrt(x)`, `abs(x)`,
//! `floor(x)`, `ceil(x)`, `round(x)`, `min(x, y)` and `max(x, y)`. Names are
//! case-sensitive. `round` rounds halves away from zero.
//!
//! Arithmetic is IEEE 754 double precision and only the final value is
//! checked: `min(1000, 1 / 0)` is 1000, while `1 / 0` alone is an error.
//!
//! The parser compiles the text into postfix operations, so evaluation is a
//! loop over a stack rather than a walk over a tree.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How deeply parentheses, function calls and unary minus may nest.
///
/// This bounds the parser's recursion so that a hostile header cannot
/// overflow the stack.
pub const MAX_NESTING: usize = 64;

/// The function names, in the order error messages list them.
const FUNCTION_NAMES: &str = "pow, exp, sqrt, abs, floor, ceil, round, min or max";

/// What may start an operand, as error messages say it.
const OPERAND: &str = "a number, `retried` or a function call";

/// A parsed `Upstash-Retry-Delay` expression.
///
/// It keeps the source text as given, which is also how it is serialized
/// (a plain JSON string) and displayed. Two expressions are equal when their
/// source texts are equal.
///
/// # Examples
///
/// ```
/// use qstash_mock::rules::RetryDelayExpr;
///
/// let expr = RetryDelayExpr::parse("pow(2, retried) * 1000")?;
///
/// assert_eq!(expr.eval(3)?, 8000);
/// assert_eq!(expr.as_str(), "pow(2, retried) * 1000");
/// # Ok::<(), qstash_mock::rules::ExprError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RetryDelayExpr {
    source: String,
    program: Vec<Op>,
}

/// Why an expression could not be parsed or evaluated.
///
/// Positions are 1-based character columns in the source text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExprError {
    /// The source text was empty or only whitespace.
    #[error("empty expression, expected a number, `retried` or a function call such as `pow(2, retried) * 1000`")]
    Empty,

    /// A token appeared where it cannot.
    #[error("unexpected `{found}` at position {position}, expected {expected}")]
    Unexpected {
        /// The offending token as written.
        found: String,
        /// Its 1-based character position.
        position: usize,
        /// What was allowed there.
        expected: String,
    },

    /// The text stopped where more was needed.
    #[error("unexpected end of expression, expected {expected}")]
    UnexpectedEnd {
        /// What was needed at the end.
        expected: String,
    },

    /// A name that is not `retried` was used as a value.
    #[error("unknown variable `{name}` at position {position}, expected `retried`")]
    UnknownVariable {
        /// The name as written.
        name: String,
        /// Its 1-based character position.
        position: usize,
    },

    /// A name that is not a known function was called.
    #[error("unknown function `{name}` at position {position}, expected one of {FUNCTION_NAMES}")]
    UnknownFunction {
        /// The name as written.
        name: String,
        /// Its 1-based character position.
        position: usize,
    },

    /// A function was called with the wrong number of arguments.
    #[error("`{name}` at position {position} takes {expected} argument{}, found {found}", plural(*expected))]
    WrongArity {
        /// The function name.
        name: &'static str,
        /// Its 1-based character position.
        position: usize,
        /// How many arguments it takes.
        expected: usize,
        /// How many it was given.
        found: usize,
    },

    /// Parentheses, calls or unary minus nested deeper than [`MAX_NESTING`].
    #[error("expression nested too deeply at position {position}, expected at most {MAX_NESTING} levels")]
    TooDeep {
        /// The 1-based character position where the limit was passed.
        position: usize,
    },

    /// The expression evaluated to a negative number.
    #[error(
        "`{expression}` is {value} when retried={retried}, expected zero or more milliseconds"
    )]
    Negative {
        /// The expression's source text.
        expression: String,
        /// The value it produced.
        value: f64,
        /// The `retried` value it was evaluated with.
        retried: u32,
    },

    /// The expression evaluated to NaN or an infinity.
    #[error("`{expression}` is {value} when retried={retried}, expected a finite number of milliseconds")]
    NotFinite {
        /// The expression's source text.
        expression: String,
        /// The value it produced.
        value: f64,
        /// The `retried` value it was evaluated with.
        retried: u32,
    },

    /// The expression evaluated to more milliseconds than a `u64` holds.
    #[error(
        "`{expression}` is {value} when retried={retried}, expected at most {} milliseconds",
        u64::MAX
    )]
    TooLarge {
        /// The expression's source text.
        expression: String,
        /// The value it produced.
        value: f64,
        /// The `retried` value it was evaluated with.
        retried: u32,
    },
}

impl RetryDelayExpr {
    /// Parses an expression.
    ///
    /// # Errors
    ///
    /// Returns an [`ExprError`] naming the position and what was expected when
    /// the text does not follow the grammar in the [module docs](self), uses a
    /// name other than `retried`, calls an unknown function, passes the wrong
    /// number of arguments, or nests deeper than [`MAX_NESTING`].
    pub fn parse(source: &str) -> Result<Self, ExprError> {
        let tokens = tokenize(source)?;
        if tokens.is_empty() {
            return Err(ExprError::Empty);
        }

        let mut parser = Parser {
            tokens: &tokens,
            next: 0,
            depth: 0,
            program: Vec::new(),
        };
        parser.expr()?;
        if let Some(token) = parser.peek() {
            return Err(token.unexpected("an operator or the end"));
        }
        Ok(Self {
            source: source.to_owned(),
            program: parser.program,
        })
    }

    /// Evaluates the expression for the given `retried` value and returns the
    /// delay in whole milliseconds, rounded down.
    ///
    /// # Errors
    ///
    /// Returns an [`ExprError`] naming the value and `retried` when the result
    /// is negative, NaN, infinite, or larger than a `u64`.
    pub fn eval(&self, retried: u32) -> Result<u64, ExprError> {
        let value = self.eval_f64(retried);
        let expression = || self.source.clone();

        if !value.is_finite() {
            return Err(ExprError::NotFinite {
                expression: expression(),
                value,
                retried,
            });
        }
        if value < 0.0 {
            return Err(ExprError::Negative {
                expression: expression(),
                value,
                retried,
            });
        }
        // 2^64 is the first double above u64::MAX.
        if value >= 18_446_744_073_709_551_616.0 {
            return Err(ExprError::TooLarge {
                expression: expression(),
                value,
                retried,
            });
        }
        Ok(value.floor() as u64)
    }

    /// The source text, exactly as given to [`parse`](Self::parse).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Runs the compiled program; the parser guarantees a well-formed stack.
    fn eval_f64(&self, retried: u32) -> f64 {
        let mut stack: Vec<f64> = Vec::with_capacity(8);
        for op in &self.program {
            let value = match *op {
                Op::Number(n) => n,
                Op::Retried => f64::from(retried),
                Op::Negate => -pop(&mut stack),
                Op::Binary(operator) => {
                    let right = pop(&mut stack);
                    let left = pop(&mut stack);
                    operator.apply(left, right)
                }
                Op::Call(function) => function.apply(&mut stack),
            };
            stack.push(value);
        }
        pop(&mut stack)
    }
}

impl PartialEq for RetryDelayExpr {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for RetryDelayExpr {}

impl fmt::Display for RetryDelayExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for RetryDelayExpr {
    type Err = ExprError;

    fn from_str(source: &str) -> Result<Self, Self::Err> {
        Self::parse(source)
    }
}

impl Serialize for RetryDelayExpr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for RetryDelayExpr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = String::deserialize(deserializer)?;
        Self::parse(&source).map_err(serde::de::Error::custom)
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

fn pop(stack: &mut Vec<f64>) -> f64 {
    stack.pop().expect("the parser emits balanced programs")
}

/// One step of a compiled expression, in postfix order.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Number(f64),
    Retried,
    Negate,
    Binary(BinaryOp),
    Call(Function),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BinaryOp {
    Add,
    Subtract,
    Multiply,
    Divide,
    Remainder,
}

impl BinaryOp {
    fn apply(self, left: f64, right: f64) -> f64 {
        match self {
            BinaryOp::Add => left + right,
            BinaryOp::Subtract => left - right,
            BinaryOp::Multiply => left * right,
            BinaryOp::Divide => left / right,
            BinaryOp::Remainder => left % right,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    Pow,
    Exp,
    Sqrt,
    Abs,
    Floor,
    Ceil,
    Round,
    Min,
    Max,
}

impl Function {
    fn from_name(name: &str) -> Option<Self> {
        let function = match name {
            "pow" => Function::Pow,
            "exp" => Function::Exp,
            "sqrt" => Function::Sqrt,
            "abs" => Function::Abs,
            "floor" => Function::Floor,
            "ceil" => Function::Ceil,
            "round" => Function::Round,
            "min" => Function::Min,
            "max" => Function::Max,
            _ => return None,
        };
        Some(function)
    }

    fn name(self) -> &'static str {
        match self {
            Function::Pow => "pow",
            Function::Exp => "exp",
            Function::Sqrt => "sqrt",
            Function::Abs => "abs",
            Function::Floor => "floor",
            Function::Ceil => "ceil",
            Function::Round => "round",
            Function::Min => "min",
            Function::Max => "max",
        }
    }

    fn arity(self) -> usize {
        match self {
            Function::Pow | Function::Min | Function::Max => 2,
            _ => 1,
        }
    }

    /// Pops this function's arguments and returns its value.
    fn apply(self, stack: &mut Vec<f64>) -> f64 {
        if self.arity() == 2 {
            let y = pop(stack);
            let x = pop(stack);
            return match self {
                Function::Pow => x.powf(y),
                Function::Min => x.min(y),
                _ => x.max(y),
            };
        }

        let x = pop(stack);
        match self {
            Function::Exp => x.exp(),
            Function::Sqrt => x.sqrt(),
            Function::Abs => x.abs(),
            Function::Floor => x.floor(),
            Function::Ceil => x.ceil(),
            _ => x.round(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    Number(f64),
    Name(String),
    Symbol(char),
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    kind: TokenKind,
    /// The token as written, for error messages.
    text: String,
    /// 1-based character position of its first character.
    position: usize,
}

impl Token {
    fn unexpected(&self, expected: impl Into<String>) -> ExprError {
        ExprError::Unexpected {
            found: self.text.clone(),
            position: self.position,
            expected: expected.into(),
        }
    }
}

/// Splits the source into tokens, skipping whitespace.
fn tokenize(source: &str) -> Result<Vec<Token>, ExprError> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }

        let kind = if c.is_ascii_digit() {
            i = scan_number(&chars, i)?;
            let text: String = chars[start..i].iter().collect();
            TokenKind::Number(text.parse().expect("scanned digits form a valid f64"))
        } else if c.is_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            TokenKind::Name(chars[start..i].iter().collect())
        } else if "+-*/%(),".contains(c) {
            i += 1;
            TokenKind::Symbol(c)
        } else {
            return Err(ExprError::Unexpected {
                found: c.to_string(),
                position: start + 1,
                expected: "a number, a name, an operator or a parenthesis".to_owned(),
            });
        };
        tokens.push(Token {
            kind,
            text: chars[start..i].iter().collect(),
            position: start + 1,
        });
    }
    Ok(tokens)
}

/// Returns the index just past the number starting at `start`.
fn scan_number(chars: &[char], start: usize) -> Result<usize, ExprError> {
    let digits_from = |mut i: usize| {
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        i
    };

    let end = digits_from(start);
    if chars.get(end) != Some(&'.') {
        return Ok(end);
    }
    let fraction_end = digits_from(end + 1);
    if fraction_end == end + 1 {
        let text: String = chars[start..=end].iter().collect();
        return match chars.get(end + 1) {
            Some(c) => Err(ExprError::Unexpected {
                found: c.to_string(),
                position: end + 2,
                expected: format!("a digit after `{text}`"),
            }),
            None => Err(ExprError::UnexpectedEnd {
                expected: format!("a digit after `{text}`"),
            }),
        };
    }
    Ok(fraction_end)
}

/// Recursive-descent parser that emits postfix operations.
struct Parser<'a> {
    tokens: &'a [Token],
    next: usize,
    depth: usize,
    program: Vec<Op>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn peek_symbol(&self) -> Option<char> {
        match self.peek()?.kind {
            TokenKind::Symbol(c) => Some(c),
            _ => None,
        }
    }

    /// Consumes the next token, or fails at the end with `expected`.
    fn advance(&mut self, expected: &str) -> Result<Token, ExprError> {
        let token = self
            .peek()
            .cloned()
            .ok_or_else(|| ExprError::UnexpectedEnd {
                expected: expected.to_owned(),
            })?;
        self.next += 1;
        Ok(token)
    }

    fn expr(&mut self) -> Result<(), ExprError> {
        self.term()?;
        while let Some(symbol @ ('+' | '-')) = self.peek_symbol() {
            self.next += 1;
            self.term()?;
            let operator = if symbol == '+' {
                BinaryOp::Add
            } else {
                BinaryOp::Subtract
            };
            self.program.push(Op::Binary(operator));
        }
        Ok(())
    }

    fn term(&mut self) -> Result<(), ExprError> {
        self.unary()?;
        while let Some(symbol @ ('*' | '/' | '%')) = self.peek_symbol() {
            self.next += 1;
            self.unary()?;
            let operator = match symbol {
                '*' => BinaryOp::Multiply,
                '/' => BinaryOp::Divide,
                _ => BinaryOp::Remainder,
            };
            self.program.push(Op::Binary(operator));
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<(), ExprError> {
        if self.peek_symbol() != Some('-') {
            return self.primary();
        }
        self.next += 1;
        self.nested(|parser| parser.unary())?;
        self.program.push(Op::Negate);
        Ok(())
    }

    fn primary(&mut self) -> Result<(), ExprError> {
        let token = self.advance(OPERAND)?;
        match &token.kind {
            TokenKind::Number(n) => self.program.push(Op::Number(*n)),
            TokenKind::Name(name) if self.peek_symbol() == Some('(') => {
                self.call(name, token.position)?;
            }
            TokenKind::Name(name) if name == "retried" => self.program.push(Op::Retried),
            TokenKind::Name(name) if Function::from_name(name).is_some() => {
                let expected = format!("`(` after `{name}`");
                return Err(match self.peek() {
                    Some(next) => next.unexpected(expected),
                    None => ExprError::UnexpectedEnd { expected },
                });
            }
            TokenKind::Name(name) => {
                return Err(ExprError::UnknownVariable {
                    name: name.clone(),
                    position: token.position,
                });
            }
            TokenKind::Symbol('(') => {
                self.nested(|parser| parser.expr())?;
                self.expect_symbol(')', "`)` or an operator")?;
            }
            TokenKind::Symbol(_) => return Err(token.unexpected(OPERAND)),
        }
        Ok(())
    }

    /// Parses `name(` ... `)`; the name has been consumed, `(` has not.
    fn call(&mut self, name: &str, position: usize) -> Result<(), ExprError> {
        let function = Function::from_name(name).ok_or_else(|| ExprError::UnknownFunction {
            name: name.to_owned(),
            position,
        })?;
        self.next += 1;

        let found = self.nested(|parser| parser.arguments())?;
        if found != function.arity() {
            return Err(ExprError::WrongArity {
                name: function.name(),
                position,
                expected: function.arity(),
                found,
            });
        }
        self.program.push(Op::Call(function));
        Ok(())
    }

    /// Parses a comma-separated argument list and its closing `)`, returning
    /// how many arguments there were.
    fn arguments(&mut self) -> Result<usize, ExprError> {
        if self.peek_symbol() == Some(')') {
            self.next += 1;
            return Ok(0);
        }
        let mut count = 0;
        loop {
            self.expr()?;
            count += 1;
            let token = self.advance("`,` or `)`")?;
            match token.kind {
                TokenKind::Symbol(',') => continue,
                TokenKind::Symbol(')') => return Ok(count),
                _ => return Err(token.unexpected("`,`, `)` or an operator")),
            }
        }
    }

    fn expect_symbol(&mut self, symbol: char, expected: &str) -> Result<(), ExprError> {
        let token = self.advance(expected)?;
        if token.kind != TokenKind::Symbol(symbol) {
            return Err(token.unexpected(expected));
        }
        Ok(())
    }

    /// Runs `parse` one nesting level deeper, enforcing [`MAX_NESTING`].
    fn nested<T>(
        &mut self,
        parse: impl FnOnce(&mut Self) -> Result<T, ExprError>,
    ) -> Result<T, ExprError> {
        if self.depth == MAX_NESTING {
            let position = self.tokens[self.next - 1].position;
            return Err(ExprError::TooDeep { position });
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(source: &str, retried: u32) -> u64 {
        RetryDelayExpr::parse(source)
            .unwrap_or_else(|err| panic!("`{source}` should parse: {err}"))
            .eval(retried)
            .unwrap_or_else(|err| panic!("`{source}` should evaluate: {err}"))
    }

    fn parse_error(source: &str) -> String {
        RetryDelayExpr::parse(source)
            .expect_err("expression should be rejected")
            .to_string()
    }

    fn eval_error(source: &str, retried: u32) -> ExprError {
        RetryDelayExpr::parse(source)
            .expect("expression should parse")
            .eval(retried)
            .expect_err("evaluation should fail")
    }

    #[test]
    fn the_documented_examples_evaluate_as_described() {
        assert_eq!(eval("1000", 5), 1000);
        assert_eq!(eval("1000 * (1 + retried)", 2), 3000);
        assert_eq!(eval("pow(2, retried) * 1000", 3), 8000);
        assert_eq!(eval("max(1000, pow(2, retried) * 100)", 0), 1000);
        assert_eq!(eval("max(1000, pow(2, retried) * 100)", 5), 3200);
    }

    #[test]
    fn multiplication_binds_tighter_than_addition() {
        assert_eq!(eval("1 + 2 * 3", 0), 7);
        assert_eq!(eval("(1 + 2) * 3", 0), 9);
        assert_eq!(eval("10 - 4 / 2", 0), 8);
    }

    #[test]
    fn binary_operators_associate_to_the_left() {
        assert_eq!(eval("100 - 10 - 1", 0), 89);
        assert_eq!(eval("1000 / 10 / 2", 0), 50);
        assert_eq!(eval("100 % 30 % 7", 0), 3);
    }

    #[test]
    fn unary_minus_negates_its_operand() {
        assert_eq!(eval("-retried + 10", 3), 7);
        assert_eq!(eval("--5", 0), 5);
        assert_eq!(eval("2 * -(-3)", 0), 6);
        assert_eq!(eval("abs(-1500)", 0), 1500);
    }

    #[test]
    fn decimal_numbers_are_read_and_the_result_is_rounded_down() {
        assert_eq!(eval("1.5 * 1000", 0), 1500);
        assert_eq!(eval("999.99", 0), 999);
        assert_eq!(eval("10 / 3", 0), 3);
    }

    #[test]
    fn every_function_computes_its_value() {
        assert_eq!(eval("pow(3, 2)", 0), 9);
        assert_eq!(eval("exp(0)", 0), 1);
        assert_eq!(eval("exp(2)", 0), 7);
        assert_eq!(eval("sqrt(16)", 0), 4);
        assert_eq!(eval("abs(-7)", 0), 7);
        assert_eq!(eval("floor(2.9)", 0), 2);
        assert_eq!(eval("ceil(2.1)", 0), 3);
        assert_eq!(eval("round(2.5)", 0), 3);
        assert_eq!(eval("round(2.4)", 0), 2);
        assert_eq!(eval("min(4, retried)", 9), 4);
        assert_eq!(eval("max(4, retried)", 9), 9);
    }

    #[test]
    fn round_rounds_halves_away_from_zero() {
        assert_eq!(eval("abs(round(-2.5))", 0), 3);
    }

    #[test]
    fn whitespace_between_tokens_is_ignored() {
        assert_eq!(eval("  pow ( 2 ,retried )\t*\n1000 ", 1), 2000);
        assert_eq!(eval("1000*(1+retried)", 1), 2000);
    }

    #[test]
    fn functions_nest_inside_arguments() {
        assert_eq!(eval("min(max(retried, 2), pow(2, min(retried, 10)))", 3), 3);
    }

    #[test]
    fn only_the_final_value_is_checked() {
        assert_eq!(eval("min(1000, 1 / 0)", 0), 1000);
    }

    #[test]
    fn the_source_text_is_kept_as_given() {
        let source = " 1000 *(1+ retried) ";

        let expr = RetryDelayExpr::parse(source).unwrap();

        assert_eq!(expr.as_str(), source);
        assert_eq!(expr.to_string(), source);
    }

    #[test]
    fn expressions_are_equal_when_their_text_is_equal() {
        let a = RetryDelayExpr::parse("1000").unwrap();
        let b: RetryDelayExpr = "1000".parse().unwrap();
        let c = RetryDelayExpr::parse("1000 ").unwrap();

        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.clone(), a);
    }

    #[test]
    fn serde_uses_the_plain_source_string() {
        let expr = RetryDelayExpr::parse("pow(2, retried) * 1000").unwrap();

        let json = serde_json::to_string(&expr).unwrap();
        let back: RetryDelayExpr = serde_json::from_str(&json).unwrap();

        assert_eq!(json, r#""pow(2, retried) * 1000""#);
        assert_eq!(back, expr);
        assert_eq!(back.eval(2), Ok(4000));
    }

    #[test]
    fn deserializing_an_invalid_expression_fails_with_the_parse_error() {
        let result = serde_json::from_str::<RetryDelayExpr>(r#""log(2)""#);

        let message = result.unwrap_err().to_string();
        assert!(message.contains("unknown function `log`"), "{message}");
    }

    #[test]
    fn empty_text_is_rejected() {
        assert_eq!(RetryDelayExpr::parse(""), Err(ExprError::Empty));
        assert_eq!(RetryDelayExpr::parse("   "), Err(ExprError::Empty));
    }

    #[test]
    fn a_misplaced_token_names_its_position_and_what_was_expected() {
        assert_eq!(
            parse_error("1000 * )"),
            "unexpected `)` at position 8, expected a number, `retried` or a function call"
        );
        assert_eq!(
            parse_error("1000 1"),
            "unexpected `1` at position 6, expected an operator or the end"
        );
        assert_eq!(
            parse_error("(1 + 2"),
            "unexpected end of expression, expected `)` or an operator"
        );
        assert_eq!(
            parse_error("(1 2)"),
            "unexpected `2` at position 4, expected `)` or an operator"
        );
        assert_eq!(
            parse_error("1 +"),
            "unexpected end of expression, expected a number, `retried` or a function call"
        );
        assert_eq!(
            parse_error("+1"),
            "unexpected `+` at position 1, expected a number, `retried` or a function call"
        );
    }

    #[test]
    fn characters_outside_the_grammar_are_rejected() {
        assert_eq!(
            parse_error("2 ^ retried"),
            "unexpected `^` at position 3, expected a number, a name, an operator or a parenthesis"
        );
        assert!(RetryDelayExpr::parse("1000;").is_err());
        assert!(RetryDelayExpr::parse("retried == 1").is_err());
    }

    #[test]
    fn malformed_numbers_are_rejected() {
        assert_eq!(
            parse_error("1."),
            "unexpected end of expression, expected a digit after `1.`"
        );
        assert_eq!(
            parse_error("1.x"),
            "unexpected `x` at position 3, expected a digit after `1.`"
        );
        assert!(RetryDelayExpr::parse("1.2.3").is_err());
        assert!(RetryDelayExpr::parse(".5").is_err());
        assert!(RetryDelayExpr::parse("1e3").is_err());
    }

    #[test]
    fn unknown_names_are_rejected() {
        assert_eq!(
            parse_error("retries * 1000"),
            "unknown variable `retries` at position 1, expected `retried`"
        );
        assert_eq!(
            parse_error("1 + log(2)"),
            "unknown function `log` at position 5, expected one of \
             pow, exp, sqrt, abs, floor, ceil, round, min or max"
        );
        assert!(RetryDelayExpr::parse("Retried").is_err());
        assert!(RetryDelayExpr::parse("POW(2, 2)").is_err());
        assert!(RetryDelayExpr::parse("retried(1)").is_err());
    }

    #[test]
    fn a_function_name_without_a_call_is_rejected() {
        assert_eq!(
            parse_error("pow + 1"),
            "unexpected `+` at position 5, expected `(` after `pow`"
        );
        assert_eq!(
            parse_error("sqrt"),
            "unexpected end of expression, expected `(` after `sqrt`"
        );
    }

    #[test]
    fn calls_with_the_wrong_number_of_arguments_are_rejected() {
        assert_eq!(
            parse_error("pow(2)"),
            "`pow` at position 1 takes 2 arguments, found 1"
        );
        assert_eq!(
            parse_error("sqrt(1, 2)"),
            "`sqrt` at position 1 takes 1 argument, found 2"
        );
        assert_eq!(
            parse_error("max()"),
            "`max` at position 1 takes 2 arguments, found 0"
        );
        assert!(RetryDelayExpr::parse("min(1, 2, 3)").is_err());
    }

    #[test]
    fn malformed_argument_lists_are_rejected() {
        assert_eq!(
            parse_error("pow(2,"),
            "unexpected end of expression, expected a number, `retried` or a function call"
        );
        assert_eq!(
            parse_error("pow(2 3)"),
            "unexpected `3` at position 7, expected `,`, `)` or an operator"
        );
        assert_eq!(
            parse_error("pow(2, 3"),
            "unexpected end of expression, expected `,` or `)`"
        );
        assert!(RetryDelayExpr::parse("pow(,2)").is_err());
        assert!(RetryDelayExpr::parse("pow(2,)").is_err());
    }

    #[test]
    fn nesting_up_to_the_limit_is_accepted() {
        let source = format!("{}1{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));

        assert_eq!(eval(&source, 0), 1);
    }

    #[test]
    fn nesting_beyond_the_limit_is_rejected_without_overflowing_the_stack() {
        let parens = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
        let minuses = format!("{}1", "-".repeat(100_000));
        let calls = format!(
            "{}1{}",
            "abs(".repeat(MAX_NESTING + 1),
            ")".repeat(MAX_NESTING + 1)
        );

        assert_eq!(
            RetryDelayExpr::parse(&parens),
            Err(ExprError::TooDeep {
                position: MAX_NESTING + 1
            })
        );
        assert!(matches!(
            RetryDelayExpr::parse(&minuses),
            Err(ExprError::TooDeep { .. })
        ));
        assert!(matches!(
            RetryDelayExpr::parse(&calls),
            Err(ExprError::TooDeep { .. })
        ));
        assert_eq!(
            parse_error(&parens),
            "expression nested too deeply at position 65, expected at most 64 levels"
        );
    }

    #[test]
    fn long_flat_chains_evaluate_without_recursion() {
        let source = vec!["1"; 50_000].join(" + ");

        assert_eq!(eval(&source, 0), 50_000);
    }

    #[test]
    fn a_negative_result_is_an_error_naming_the_value_and_retried() {
        let error = eval_error("1000 - retried * 2000", 1);

        assert_eq!(
            error.to_string(),
            "`1000 - retried * 2000` is -1000 when retried=1, expected zero or more milliseconds"
        );
        assert!(matches!(eval_error("-0.5", 0), ExprError::Negative { .. }));
    }

    #[test]
    fn negative_zero_counts_as_zero() {
        assert_eq!(eval("-0", 0), 0);
    }

    #[test]
    fn nan_and_infinite_results_are_errors() {
        assert_eq!(
            eval_error("1 / 0", 4).to_string(),
            "`1 / 0` is inf when retried=4, expected a finite number of milliseconds"
        );
        assert_eq!(
            eval_error("sqrt(-1 - retried)", 0).to_string(),
            "`sqrt(-1 - retried)` is NaN when retried=0, expected a finite number of milliseconds"
        );
        assert!(matches!(
            eval_error("0 / 0", 0),
            ExprError::NotFinite { .. }
        ));
        assert!(matches!(
            eval_error("5 % 0", 0),
            ExprError::NotFinite { .. }
        ));
        assert!(matches!(
            eval_error("exp(1000)", 0),
            ExprError::NotFinite { .. }
        ));
        assert!(matches!(
            eval_error("-exp(1000)", 0),
            ExprError::NotFinite { .. }
        ));
    }

    #[test]
    fn results_beyond_u64_are_errors() {
        let error = eval_error("pow(2, 64)", 0);

        assert!(matches!(error, ExprError::TooLarge { .. }));
        assert!(error
            .to_string()
            .ends_with("expected at most 18446744073709551615 milliseconds"));
        assert_eq!(eval("pow(2, 63)", 0), 1 << 63);
    }

    #[test]
    fn large_retried_values_are_exact() {
        assert_eq!(eval("retried", u32::MAX), u64::from(u32::MAX));
    }
}
