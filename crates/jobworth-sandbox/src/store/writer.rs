//! The single writer: one task that owns the process's write connection and runs every write in
//! arrival order, committing the nonces of concurrent requests together (group commit).
//!
//! Every v3 request writes its nonce before it is answered. Through a pool that cost two round
//! trips to the connection's thread per statement (sqlx pings a connection each time it goes back
//! to the pool), and one statement per request made the connection the bottleneck under load.
//! Owning the connection removes the ping; nonces that arrive while a statement runs are inserted
//! together by the next one. Each nonce is committed before its request goes on, so nothing
//! acknowledged is lost. Writes from one process queue here instead of colliding in SQLite's busy
//! handler (which sleeps); writes from other processes still meet the busy timeout.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::SqliteConnection;
use sqlx::Connection;
use tokio::sync::{mpsc, oneshot};

use super::{duration_ms, now_ms, Generations};

/// A boxed future borrowing the connection.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

type Work = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, ()> + Send>;

enum Job {
    Nonce(NonceJob),
    Run(Work),
    Close(oneshot::Sender<()>),
}

/// Most nonces in one statement (3 bound parameters each, far below SQLite's limit).
const MAX_BATCH: usize = 64;

/// Why a nonce could not be recorded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NonceError {
    /// The statement failed; every request of the batch gets the same error.
    #[error("database: {0}")]
    Db(Arc<sqlx::Error>),
    /// The store was closed.
    #[error("the store is closed")]
    Closed,
}

struct NonceJob {
    app_id: String,
    nonce: String,
    ts_ms: i64,
    window: Duration,
    reply: oneshot::Sender<Result<Option<Recorded>, NonceError>>,
}

/// What a recorded nonce tells the request that sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// The change counters as of the insert.
    pub generations: Generations,
    /// Nonces with a timestamp below this (epoch ms) may have been pruned, by any process on the
    /// data dir: a request that old cannot be told from a replay.
    pub pruned_before: i64,
}

/// Handle on the writer task.
#[derive(Debug)]
pub(crate) struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
    /// When old nonces were last pruned (epoch ms); tests reset it to prune at once.
    #[cfg(test)]
    pub(crate) last_prune_ms: Arc<AtomicI64>,
}

impl Writer {
    /// Starts the writer task on the current runtime with `conn`; it ends on [`Writer::close`]
    /// or when the handle is dropped.
    pub fn start(conn: SqliteConnection) -> Self {
        let (jobs, rx) = mpsc::unbounded_channel();
        let last_prune_ms = Arc::new(AtomicI64::new(0));
        tokio::spawn(run(conn, rx, last_prune_ms.clone()));
        Writer {
            jobs,
            #[cfg(test)]
            last_prune_ms,
        }
    }

    /// Runs `work` on the write connection, after every write queued before it.
    /// A closed writer answers [`sqlx::Error::PoolClosed`].
    pub async fn run<T, F>(&self, work: F) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, sqlx::Error>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Work = Box::new(move |conn| {
            Box::pin(async move {
                let _ = reply.send(work(conn).await);
            })
        });
        self.jobs.send(Job::Run(job)).map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::PoolClosed)?
    }

    /// Records a nonce: `None` when the app used it before (replay), else the change counters
    /// as of the (committed) insert.
    pub async fn record_nonce(
        &self,
        app_id: &str,
        nonce: &str,
        ts_ms: i64,
        window: Duration,
    ) -> Result<Option<Recorded>, NonceError> {
        let (reply, answer) = oneshot::channel();
        let job = NonceJob { app_id: app_id.to_owned(), nonce: nonce.to_owned(), ts_ms, window, reply };
        self.jobs.send(Job::Nonce(job)).map_err(|_| NonceError::Closed)?;
        answer.await.map_err(|_| NonceError::Closed)?
    }

    /// Finishes the writes queued so far, then closes the connection; later writes are refused.
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.jobs.send(Job::Close(done)).is_ok() {
            let _ = closed.await;
        }
    }
}

async fn run(mut conn: SqliteConnection, mut rx: mpsc::UnboundedReceiver<Job>, last_prune: Arc<AtomicI64>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    let mut nonces = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        for job in jobs.drain(..) {
            match job {
                Job::Nonce(n) => nonces.push(n),
                Job::Run(work) => {
                    flush(&mut conn, &mut nonces, &last_prune).await;
                    work(&mut conn).await;
                }
                Job::Close(done) => {
                    flush(&mut conn, &mut nonces, &last_prune).await;
                    let _ = conn.close().await;
                    let _ = done.send(());
                    return;
                }
            }
        }
        flush(&mut conn, &mut nonces, &last_prune).await;
    }
}

async fn flush(conn: &mut SqliteConnection, nonces: &mut Vec<NonceJob>, last_prune: &AtomicI64) {
    if !nonces.is_empty() {
        let result = write(conn, nonces, last_prune).await;
        deliver(std::mem::take(nonces), result);
    }
}

/// Prunes old nonces (at most once a second) and raises the pruning horizon in the same
/// transaction, then inserts the batch in one statement. Returns the inserted (app_id, nonce)
/// pairs with the counters.
async fn write(
    conn: &mut SqliteConnection,
    batch: &[NonceJob],
    last_prune: &AtomicI64,
) -> Result<HashMap<(String, String), Recorded>, sqlx::Error> {
    let now = now_ms();
    if now - last_prune.load(Ordering::Relaxed) >= 1000 {
        last_prune.store(now, Ordering::Relaxed);
        let window = batch.iter().map(|j| j.window).max().unwrap_or_default();
        let cutoff = now - duration_ms(window);
        let mut tx = conn.begin().await?;
        // A bounded batch: a backlog (a store reopened after a long stop) drains over several
        // prunes instead of stalling the requests behind one huge delete. Rows left below the
        // horizon refuse nothing a fresh timestamp could carry.
        sqlx::query("DELETE FROM nonces WHERE (app_id, nonce) IN (SELECT app_id, nonce FROM nonces WHERE ts < ? ORDER BY ts LIMIT ?)")
            .bind(cutoff)
            .bind(super::PRUNE_BATCH)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE generations SET nonces_pruned_before = max(nonces_pruned_before, ?)")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    let mut sql = String::with_capacity(96 + batch.len() * 10);
    sql.push_str("INSERT OR IGNORE INTO nonces (app_id, nonce, ts) VALUES ");
    for i in 0..batch.len() {
        sql.push_str(if i == 0 { "(?, ?, ?)" } else { ", (?, ?, ?)" });
    }
    // Ignored rows (replays) return nothing; the counters come from the same statement.
    sql.push_str(
        " RETURNING app_id, nonce, (SELECT apps FROM generations), (SELECT desks FROM generations), \
         (SELECT nonces_pruned_before FROM generations)",
    );
    let mut query = sqlx::query_as::<_, (String, String, i64, i64, i64)>(&sql);
    for j in batch {
        query = query.bind(&j.app_id).bind(&j.nonce).bind(j.ts_ms);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    Ok(rows
        .into_iter()
        .map(|(app_id, nonce, apps, desks, pruned_before)| {
            ((app_id, nonce), Recorded { generations: Generations { apps, desks }, pruned_before })
        })
        .collect())
}

fn deliver(batch: Vec<NonceJob>, result: Result<HashMap<(String, String), Recorded>, sqlx::Error>) {
    match result {
        Ok(mut inserted) => {
            for job in batch {
                // `remove`: when one batch holds the same nonce twice, only the first one wins.
                let gens = inserted.remove(&(job.app_id, job.nonce));
                let _ = job.reply.send(Ok(gens));
            }
        }
        Err(e) => {
            let e = NonceError::Db(Arc::new(e));
            for job in batch {
                let _ = job.reply.send(Err(e.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use jobworth_testkit::stores::StoreKind;

    use super::{deliver, NonceJob};
    use crate::store::tests::fresh;
    use crate::store::{now_ms, Generations};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_nonce_twice_in_one_batch_wins_once() {
        let mut answers = Vec::new();
        let batch: Vec<NonceJob> = ["a", "b", "a"]
            .iter()
            .map(|n| {
                let (reply, rx) = tokio::sync::oneshot::channel();
                answers.push(rx);
                NonceJob { app_id: "app".into(), nonce: (*n).into(), ts_ms: 0, window: Duration::ZERO, reply }
            })
            .collect();
        let gens = super::Recorded { generations: Generations { apps: 1, desks: 2 }, pruned_before: 0 };
        let inserted = [(("app".to_string(), "a".to_string()), gens), (("app".to_string(), "b".to_string()), gens)];
        deliver(batch, Ok(inserted.into_iter().collect()));
        let got: Vec<_> = answers.into_iter().map(|mut rx| rx.try_recv().unwrap().unwrap()).collect();
        assert_eq!(got, [Some(gens), Some(gens), None]);
    }

    async fn concurrent_nonces_each_win_once(kind: StoreKind) {
        let (_place, store) = fresh(kind).await;
        let store = Arc::new(store);
        let w = Duration::from_secs(60);
        // 8 nonces, each sent 16 times at once: the batches mix duplicates and distinct nonces.
        let barrier = Arc::new(tokio::sync::Barrier::new(128));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..128 {
            let (store, barrier) = (store.clone(), barrier.clone());
            tasks.spawn(async move {
                barrier.wait().await;
                let nonce = format!("n{}", i % 8);
                (nonce.clone(), store.record_nonce("app", &nonce, now_ms(), w).await.unwrap().is_some())
            });
        }
        let mut wins = std::collections::HashMap::new();
        while let Some(r) = tasks.join_next().await {
            let (nonce, won) = r.unwrap();
            *wins.entry(nonce).or_insert(0) += usize::from(won);
        }
        assert_eq!(wins.len(), 8);
        assert!(wins.values().all(|&n| n == 1), "{wins:?}");
        // The same nonce of another app is not a replay.
        assert!(store.record_nonce("other", "n0", now_ms(), w).await.unwrap().is_some());
        store.close().await;
        // A closed store refuses with an error, it does not hang.
        let e = store.record_nonce("app", "late", now_ms(), w).await.unwrap_err();
        assert!(matches!(e, super::NonceError::Closed), "{e}");
    }

    jobworth_testkit::store_tests! {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)] concurrent_nonces_each_win_once,
    }
}
