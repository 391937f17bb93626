//! Walking cursor-paged lists as a `Stream`.

use std::collections::VecDeque;
use std::future::Future;

use futures_util::stream::{self, Stream};

use crate::error::Result;

/// One fetched page: its items and the cursor of the next page, if any.
pub(crate) type Page<T> = (Vec<T>, Option<String>);

struct Walk<T, F> {
    fetch: F,
    buffered: VecDeque<T>,
    cursor: Option<String>,
    finished: bool,
}

/// Turns a page fetcher into a stream of items.
///
/// `fetch` gets the cursor of the page to load, `start` for the first. The
/// stream ends after a page without a cursor, after an error, or when the
/// server hands back the same cursor with an empty page, which would
/// otherwise loop forever.
pub(crate) fn walk<T, F, Fut>(start: Option<String>, fetch: F) -> impl Stream<Item = Result<T>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>>>,
{
    let walk = Walk {
        fetch,
        buffered: VecDeque::new(),
        cursor: start,
        finished: false,
    };
    stream::unfold(walk, |mut walk| async move {
        loop {
            if let Some(item) = walk.buffered.pop_front() {
                return Some((Ok(item), walk));
            }
            if walk.finished {
                return None;
            }

            let requested = walk.cursor.clone();
            match (walk.fetch)(requested.clone()).await {
                Ok((items, next)) => {
                    let stuck = items.is_empty() && next.is_some() && next == requested;
                    walk.finished = next.is_none() || stuck;
                    walk.cursor = next;
                    walk.buffered.extend(items);
                }
                Err(err) => {
                    walk.finished = true;
                    return Some((Err(err), walk));
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;
    use crate::error::Error;

    fn pages(cursor: Option<String>) -> Result<Page<u32>> {
        match cursor.as_deref() {
            None => Ok((vec![1, 2], Some("a".into()))),
            Some("a") => Ok((vec![], Some("b".into()))),
            Some("b") => Ok((vec![3], None)),
            Some(other) => Err(Error::invalid_input(format!("unexpected cursor {other}"))),
        }
    }

    #[tokio::test]
    async fn every_page_is_walked_until_the_cursor_runs_out() {
        let stream = walk(None, |cursor| async move { pages(cursor) });

        let items: Vec<u32> = stream.map(|item| item.unwrap()).collect().await;

        assert_eq!(items, vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn an_error_ends_the_stream_after_being_yielded() {
        let stream = walk(None, |cursor| async move {
            match cursor {
                None => Ok((vec![1], Some("x".into()))),
                Some(_) => Err(Error::invalid_input("boom")),
            }
        });

        let items: Vec<Result<u32>> = stream.collect().await;

        assert_eq!(items.len(), 2);
        assert!(items[1].is_err());
    }

    #[tokio::test]
    async fn a_repeated_cursor_with_an_empty_page_ends_the_stream() {
        let stream = walk(None, |_cursor| async move {
            Ok((Vec::<u32>::new(), Some("same".into())))
        });

        let items: Vec<Result<u32>> = stream.collect().await;

        assert!(items.is_empty());
    }
}
