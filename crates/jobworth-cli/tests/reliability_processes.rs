//! Single-use tokens across processes, with the real `jobworth` binary:
//!
//! * `kill_9_and_restart_never_answer_a_token_twice`: concurrent clients stream queries over 200
//!   terminal tokens while the sandbox process is SIGKILLed and restarted on the same data dir 3
//!   times; from every answer received, no token got `SUCCESS` twice, and every `SUCCESS` a client
//!   received is still consumed after the last restart (`TOKEN_INVALID`).
//! * `two_processes_on_one_store_consume_each_token_once`: two sandbox processes share one store
//!   under concurrent load; every token succeeds exactly once in total.
//!
//! Each runs on both stores (SQLite under the data dir, PostgreSQL) and prints its figures
//! (RELIABILITY.md records them).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use alipay_v3::keys::PrivateKey;
use jobworth_testkit::app::{new_token, query_target, register, App};
use jobworth_testkit::http::http;
use jobworth_testkit::process::SandboxProcess;
use jobworth_testkit::signed::{signed_get, Answer};
use jobworth_testkit::stores::{StoreKind, TestStore};
use tokio::task::JoinSet;

/// The binary under test (only this crate's tests know where it is).
const BIN: &str = env!("CARGO_BIN_EXE_jobworth");

const CLIENTS: usize = 8;
/// Hard bounds on the load, whatever happens. The clients stop when the controller says so;
/// these only end a stuck run. They are not targets: on a loaded machine (restarting the
/// sandbox there takes seconds) a run takes longer, and a wall-clock cut of the clients would
/// leave the last batch unqueried and the run too thin to count.
const MAX_REQUESTS_PER_CLIENT: usize = 5_000;
const MAX_RUN: Duration = Duration::from_secs(120);
/// How long the controller waits for a batch's successes before going on regardless.
const BATCH_WAIT: Duration = Duration::from_secs(30);

#[derive(Clone)]
struct Token {
    once_token: String,
    target: String,
}

/// Tiny xorshift: deterministic enough, no extra crate.
struct Rng(u64);
impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// Shared by the load clients and the controller.
struct Load {
    /// Where the sandbox currently listens (changes on restart).
    bases: RwLock<Vec<String>>,
    tokens: RwLock<Vec<Token>>,
    /// First token of the batch the clients walk.
    batch_start: AtomicUsize,
    stop: AtomicBool,
    /// (token index, answer) for every request sent.
    answers: Mutex<Vec<(usize, Answer)>>,
}

/// One load client: walks the current batch in order (so clients collide on the same token),
/// with one request in five on a random older token (so consumed tokens are re-checked across
/// restarts). Alternates between the listed sandboxes.
async fn client_loop(load: Arc<Load>, app: App, id: usize) {
    let http = http();
    let mut rng = Rng::new(seed() ^ id as u64);
    let mut walk = 0usize;
    let mut last_batch = usize::MAX;
    let started = Instant::now();
    for n in 0..MAX_REQUESTS_PER_CLIENT {
        if load.stop.load(Ordering::Relaxed) || started.elapsed() > MAX_RUN {
            break;
        }
        let batch = load.batch_start.load(Ordering::Relaxed);
        if batch != last_batch {
            last_batch = batch;
            walk = 0;
        }
        let picked = {
            let tokens = load.tokens.read().unwrap();
            (!tokens.is_empty()).then(|| {
                let idx = if rng.below(5) == 0 || batch >= tokens.len() {
                    rng.below(tokens.len())
                } else {
                    batch + (walk / 2) % (tokens.len() - batch)
                };
                walk += 1;
                (idx, tokens[idx].target.clone())
            })
        };
        let Some((idx, target)) = picked else {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let base = {
            let bases = load.bases.read().unwrap();
            bases[(id + n) % bases.len()].clone()
        };
        let answer = signed_get(&http, &base, &app, &target).await;
        if answer == Answer::Lost {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        load.answers.lock().unwrap().push((idx, answer));
    }
}

async fn create_batch(base: &str, app_id: &str, load: &Load, count: usize) {
    let first = load.tokens.read().unwrap().len();
    let mut set = JoinSet::new();
    for i in first..first + count {
        let (base, app_id) = (base.to_string(), app_id.to_string());
        set.spawn(async move {
            let (conn_key, once_token, user_id) = new_token(&http(), &base, &app_id, &format!("conn-t{i}")).await;
            (i, Token { target: query_target(&conn_key, &once_token, &user_id), once_token })
        });
    }
    let mut made: Vec<(usize, Token)> = set.join_all().await;
    made.sort_by_key(|(i, _)| *i);
    load.tokens.write().unwrap().extend(made.into_iter().map(|(_, t)| t));
    load.batch_start.store(first, Ordering::Relaxed);
}

/// Waits (at most [`BATCH_WAIT`]) until `want` tokens of `range` have been answered `SUCCESS`.
async fn wait_for_successes(load: &Load, range: std::ops::Range<usize>, want: usize) {
    let deadline = Instant::now() + BATCH_WAIT;
    while Instant::now() < deadline {
        let done = load
            .answers
            .lock()
            .unwrap()
            .iter()
            .filter(|(i, a)| range.contains(i) && *a == Answer::Ok("SUCCESS".into()))
            .count();
        if done >= want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[derive(Default, Debug)]
struct Tally {
    success: usize,
    token_invalid: usize,
    no_answer: usize,
}

fn tally(answers: &[(usize, Answer)], tokens: usize) -> (Vec<Tally>, usize) {
    let mut per = (0..tokens).map(|_| Tally::default()).collect::<Vec<_>>();
    let mut unexpected = Vec::new();
    for (idx, a) in answers {
        match a {
            Answer::Ok(r) if r == "SUCCESS" => per[*idx].success += 1,
            Answer::Refused(400, c) if c == "TOKEN_INVALID" => per[*idx].token_invalid += 1,
            Answer::Lost => per[*idx].no_answer += 1,
            other => unexpected.push(other.clone()),
        }
    }
    assert!(unexpected.is_empty(), "answers other than SUCCESS / TOKEN_INVALID: {unexpected:?}");
    let answered = answers.iter().filter(|(_, a)| *a != Answer::Lost).count();
    (per, answered)
}

async fn kill_9_and_restart_never_answer_a_token_twice(kind: StoreKind) {
    const BATCHES: usize = 4;
    const PER_BATCH: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::new(kind);
    let (data, envs) = (store.data_dir().join("state"), store.envs());
    let started = Instant::now();
    let mut proc = SandboxProcess::start_on(BIN, &data, &dir.path().join("sandbox-0.log"), &envs);
    let http = http();
    let app = register(&http, &proc.base_url, "2021000000000001", &PrivateKey::generate().unwrap(), None).await;
    let load = Arc::new(Load {
        bases: RwLock::new(vec![proc.base_url.clone()]),
        tokens: RwLock::new(Vec::new()),
        batch_start: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        answers: Mutex::new(Vec::new()),
    });
    let mut clients = JoinSet::new();
    for id in 0..CLIENTS {
        clients.spawn(client_loop(load.clone(), app.clone(), id));
    }

    let mut rng = Rng::new(seed());
    let mut restarts = 0;
    for batch in 0..BATCHES {
        create_batch(&proc.base_url, &app.app_id, &load, PER_BATCH).await;
        if batch + 1 == BATCHES {
            // The last process is left running: the verdict is read from it.
            wait_for_successes(&load, batch * PER_BATCH..(batch + 1) * PER_BATCH, PER_BATCH).await;
            break;
        }
        // Kill while the clients are consuming this batch: once about half of it has been
        // acknowledged, after a random few milliseconds more.
        wait_for_successes(&load, batch * PER_BATCH..(batch + 1) * PER_BATCH, PER_BATCH / 2).await;
        tokio::time::sleep(Duration::from_millis(rng.below(40) as u64)).await;
        proc.kill9();
        restarts += 1;
        proc = SandboxProcess::start_on(BIN, &data, &dir.path().join(format!("sandbox-{restarts}.log")), &envs);
        *load.bases.write().unwrap() = vec![proc.base_url.clone()];
    }
    load.stop.store(true, Ordering::Relaxed);
    clients.join_all().await;

    let tokens = load.tokens.read().unwrap().clone();
    let answers = std::mem::take(&mut *load.answers.lock().unwrap());
    let (per, answered) = tally(&answers, tokens.len());
    let twice: Vec<usize> = (0..tokens.len()).filter(|&i| per[i].success > 1).collect();
    assert!(twice.is_empty(), "tokens answered SUCCESS more than once: {twice:?}");

    // After the last restart: every acknowledged consumption survived, and nothing else can
    // succeed twice either. Each token is asked once more, then once again.
    let base = proc.base_url.clone();
    let (mut acked, mut lost_ack, mut unconsumed) = (0, 0, 0);
    for (i, t) in tokens.iter().enumerate() {
        let again = signed_get(&http, &base, &app, &t.target).await;
        if per[i].success == 1 {
            acked += 1;
            assert_eq!(again, Answer::Refused(400, "TOKEN_INVALID".into()), "acknowledged token {i} came back");
        } else {
            match again {
                // Consumed by a request whose answer the kill swallowed.
                Answer::Refused(400, ref c) if c == "TOKEN_INVALID" => lost_ack += 1,
                // Never consumed before: this is its one success.
                Answer::Ok(ref r) if r == "SUCCESS" => unconsumed += 1,
                ref other => panic!("token {i} ({}): unexpected {other:?}", t.once_token),
            }
        }
        let third = signed_get(&http, &base, &app, &t.target).await;
        assert_eq!(third, Answer::Refused(400, "TOKEN_INVALID".into()), "token {i} after its success");
    }
    proc.stop();

    let no_answer: usize = per.iter().map(|t| t.no_answer).sum();
    let figures = format!(
        "crash-safety figures: store={kind:?} tokens={} processes={} restarts(SIGKILL)={restarts} clients={CLIENTS} \
         requests={} answers={answered} no_answer={no_answer} success_acknowledged={acked} \
         consumed_with_lost_answer={lost_ack} unconsumed_until_final_check={unconsumed} duplicates={} \
         acknowledged_lost=0 elapsed={:.1}s",
        tokens.len(),
        restarts + 1,
        answers.len(),
        twice.len(),
        started.elapsed().as_secs_f64()
    );
    println!("{figures}");
    eprintln!("{figures}");
    assert_eq!(tokens.len(), BATCHES * PER_BATCH);
    assert_eq!(restarts, BATCHES - 1);
    assert_eq!(acked + lost_ack + unconsumed, tokens.len());
    // The run must have exercised both sides: real successes, and real kills under load.
    assert!(acked >= tokens.len() / 2, "too few acknowledged successes ({acked}) for a meaningful run");
    assert!(no_answer > 0, "no request was cut by a kill: the kills did not land under load");
}

async fn two_processes_on_one_store_consume_each_token_once(kind: StoreKind) {
    const TOKENS: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::new(kind);
    let (data, envs) = (store.data_dir().join("state"), store.envs());
    let started = Instant::now();
    let a = SandboxProcess::start_on(BIN, &data, &dir.path().join("a.log"), &envs);
    let b = SandboxProcess::start_on(BIN, &data, &dir.path().join("b.log"), &envs);
    assert_ne!(a.base_url, b.base_url);
    let http = http();
    // Registered through A, used through both: the state is shared, not per process.
    let app = register(&http, &a.base_url, "2021000000000002", &PrivateKey::generate().unwrap(), None).await;
    let load = Arc::new(Load {
        bases: RwLock::new(vec![a.base_url.clone(), b.base_url.clone()]),
        tokens: RwLock::new(Vec::new()),
        batch_start: AtomicUsize::new(usize::MAX),
        stop: AtomicBool::new(false),
        answers: Mutex::new(Vec::new()),
    });
    let mut clients = JoinSet::new();
    for id in 0..CLIENTS {
        clients.spawn(client_loop(load.clone(), app.clone(), id));
    }
    // Half the tokens created through each process, while the other half is being queried.
    create_batch(&a.base_url, &app.app_id, &load, TOKENS / 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    create_batch(&b.base_url, &app.app_id, &load, TOKENS / 2).await;
    // Run until every token has been answered at least twice (or the bound).
    let deadline = Instant::now() + Duration::from_secs(12);
    loop {
        let mut count = HashMap::new();
        for (i, a) in load.answers.lock().unwrap().iter() {
            if *a != Answer::Lost {
                *count.entry(*i).or_insert(0) += 1;
            }
        }
        if (0..TOKENS).all(|i| count.get(&i).copied().unwrap_or(0) >= 2) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    load.stop.store(true, Ordering::Relaxed);
    clients.join_all().await;

    let tokens = load.tokens.read().unwrap().clone();
    let mut answers = std::mem::take(&mut *load.answers.lock().unwrap());
    // Final check through both processes.
    for (i, t) in tokens.iter().enumerate() {
        answers.push((i, signed_get(&http, &a.base_url, &app, &t.target).await));
        answers.push((i, signed_get(&http, &b.base_url, &app, &t.target).await));
    }
    let (per, answered) = tally(&answers, tokens.len());
    let no_answer: usize = per.iter().map(|t| t.no_answer).sum();
    assert_eq!(no_answer, 0, "both processes stay up: every request is answered");
    let wrong: Vec<(usize, usize)> =
        per.iter().enumerate().filter(|(_, t)| t.success != 1).map(|(i, t)| (i, t.success)).collect();
    assert!(wrong.is_empty(), "tokens not answered SUCCESS exactly once (index, successes): {wrong:?}");
    let figures = format!(
        "multi-process figures: store={kind:?} processes=2 tokens={} clients={CLIENTS} answers={answered} successes={} \
         token_invalid={} duplicates=0 elapsed={:.1}s",
        tokens.len(),
        per.iter().map(|t| t.success).sum::<usize>(),
        per.iter().map(|t| t.token_invalid).sum::<usize>(),
        started.elapsed().as_secs_f64()
    );
    println!("{figures}");
    eprintln!("{figures}");
    a.stop();
    b.stop();
}

jobworth_testkit::store_tests! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)] kill_9_and_restart_never_answer_a_token_twice,
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)] two_processes_on_one_store_consume_each_token_once,
}
