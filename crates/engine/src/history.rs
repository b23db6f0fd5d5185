//! The commits a deployment brings to a market, for exact DORA lead times.
//!
//! When a market moves from release commit `old` to `new`, it gains the commits reachable from
//! `new` and not from `old` (`git rev-list new ^old`): merge commits bring their branch, a
//! squash merge brings its one commit, rebased commits count by their new ids, direct pushes
//! count, and a move to a branch that diverged from `old` brings only what `old` lacks. A
//! market's first release (no `old`) brings every commit reachable from `new`: nothing was
//! there before. [`History::limit_first_release`] caps that, for repositories whose whole past
//! should not weigh on the first deployment.
//!
//! The walk hides `old` with gix's hidden-tip painting, so it reads the commits between the two
//! releases and down to where their histories meet, not the whole history. That painting goes
//! by commit-graph generation where the repository has a commit-graph (git writes one on gc) and
//! by committer date elsewhere, trusting dates as `git rev-list` does: only an ancestor dated
//! after its descendant (a machine with a wrong clock) can make a move bring a commit `old`
//! already had. All blocking: call from `spawn_blocking`.

use gix::ObjectId;
use gix::revision::walk::Sorting;
use gix::traverse::commit::simple::CommitTimeOrder;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Decoded objects kept between walks, in bytes: consecutive moves of a market share their
/// boundary commits, and a commit is read by the walk then again for its author.
const OBJECT_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// A commit and its times, in unix milliseconds (git records seconds).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CommitTime {
    pub sha: String,
    pub authored_at: i64,
    pub committed_at: i64,
}

/// What can go wrong reading which commits a move brings.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("repository {} does not exist", repo.display())]
    MissingRepository { repo: PathBuf },
    #[error("{} is not a git repository: {source}", repo.display())]
    NotARepository {
        repo: PathBuf,
        #[source]
        source: gix::Error,
    },
    #[error("cannot find revision `{rev}` in {}: {source}", repo.display())]
    UnknownRevision {
        repo: PathBuf,
        rev: String,
        #[source]
        source: gix::Error,
    },
    #[error("revision `{rev}` in {} does not point at a commit: {source}", repo.display())]
    NotACommit {
        repo: PathBuf,
        rev: String,
        #[source]
        source: gix::Error,
    },
    #[error("cannot read the history `{range}` of {}: {source}", repo.display())]
    Walk {
        repo: PathBuf,
        range: String,
        #[source]
        source: gix::Error,
    },
}

/// Commits reachable from `new` but not from `old` (all reachable from `new` without `old`),
/// newest first by commit time. Both are revisions: ids, tags, branches.
pub fn commits_between(repo: &Path, new: &str, old: Option<&str>) -> Result<Vec<CommitTime>, HistoryError> {
    History::open(repo)?.commits_between(new, old)
}

/// [`commits_between`] for each `(new, old)` move, in order, opening the repository once.
pub fn commits_between_each(repo: &Path, moves: &[(&str, Option<&str>)]) -> Result<Vec<Vec<CommitTime>>, HistoryError> {
    let mut history = History::open(repo)?;
    moves
        .iter()
        .map(|(new, old)| history.commits_between(new, *old))
        .collect()
}

/// One repository opened for many moves: each move walks only its own commits, and a move
/// asked again (markets of one rollout make the same move) is answered from memory.
pub struct History {
    path: PathBuf,
    repo: gix::Repository,
    first_release_limit: Option<usize>,
    moves: HashMap<(ObjectId, Option<ObjectId>), Vec<CommitTime>>,
    /// Commits already read: moves of different markets overlap.
    times: HashMap<ObjectId, CommitTime>,
}

impl History {
    pub fn open(repo: &Path) -> Result<Self, HistoryError> {
        if !repo.exists() {
            return Err(HistoryError::MissingRepository {
                repo: repo.to_path_buf(),
            });
        }
        let mut handle = gix::open(repo).map_err(|source| HistoryError::NotARepository {
            repo: repo.to_path_buf(),
            source,
        })?;
        handle.object_cache_size_if_unset(OBJECT_CACHE_BYTES);
        Ok(Self {
            path: repo.to_path_buf(),
            repo: handle,
            first_release_limit: None,
            moves: HashMap::new(),
            times: HashMap::new(),
        })
    }

    /// A first release (no `old`) brings at most the `max` newest commits.
    pub fn limit_first_release(mut self, max: usize) -> Self {
        self.first_release_limit = Some(max);
        self.moves.retain(|(_, old), _| old.is_some());
        self
    }

    /// Commits reachable from `new` but not from `old` (all reachable from `new` without `old`,
    /// up to [`History::limit_first_release`]), newest first by commit time.
    pub fn commits_between(&mut self, new: &str, old: Option<&str>) -> Result<Vec<CommitTime>, HistoryError> {
        let new_id = self.resolve(new)?;
        let old_id = old.map(|rev| self.resolve(rev)).transpose()?;
        if let Some(known) = self.moves.get(&(new_id, old_id)) {
            return Ok(known.clone());
        }
        let range = match old {
            Some(old) => format!("{new} ^{old}"),
            None => new.to_string(),
        };
        let walk_error = |source| HistoryError::Walk {
            repo: self.path.clone(),
            range: range.clone(),
            source,
        };
        // Date order only where it matters: a capped first release keeps its newest commits.
        let (sorting, limit) = match (old_id, self.first_release_limit) {
            (None, Some(max)) => (Sorting::ByCommitTime(CommitTimeOrder::NewestFirst), max),
            _ => (Sorting::BreadthFirst, usize::MAX),
        };
        let walk = self
            .repo
            .rev_walk([new_id])
            .sorting(sorting)
            .with_hidden(old_id)
            .all()
            .map_err(walk_error)?;
        let mut commits = Vec::new();
        for info in walk.take(limit) {
            let info = info.map_err(walk_error)?;
            let times = match self.times.get(&info.id) {
                Some(known) => known.clone(),
                None => {
                    let read = read_times(&self.repo, info.id).map_err(walk_error)?;
                    self.times.insert(info.id, read.clone());
                    read
                }
            };
            commits.push(times);
        }
        commits.sort_by_key(|c| std::cmp::Reverse(c.committed_at));
        self.moves.insert((new_id, old_id), commits.clone());
        Ok(commits)
    }

    /// The commit `rev` names, through tags.
    fn resolve(&self, rev: &str) -> Result<ObjectId, HistoryError> {
        let id = self
            .repo
            .rev_parse_single(rev)
            .map_err(|source| HistoryError::UnknownRevision {
                repo: self.path.clone(),
                rev: rev.to_string(),
                source,
            })?;
        let not_a_commit = |source| HistoryError::NotACommit {
            repo: self.path.clone(),
            rev: rev.to_string(),
            source,
        };
        Ok(id
            .object()
            .map_err(not_a_commit)?
            .peel_to_commit()
            .map_err(not_a_commit)?
            .id)
    }
}

fn read_times(repo: &gix::Repository, id: ObjectId) -> Result<CommitTime, gix::Error> {
    let commit = repo.find_commit(id)?;
    Ok(CommitTime {
        sha: id.to_string(),
        authored_at: commit.author()?.time()?.seconds * 1000,
        committed_at: commit.time()?.seconds * 1000,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::process::{Command, Stdio};

    /// Seconds since the epoch of the first commit; times below are offsets from it.
    const T0: i64 = 1_700_000_000;

    /// Runs `git` in `dir` as a fixed author with the given dates (`None` keeps git's own
    /// choice, as a rebase keeping author dates needs), ignoring the machine's git config.
    fn git_dated(dir: &Path, author: Option<i64>, committer: Option<i64>, args: &[&str]) -> String {
        let mut cmd = Command::new("git");
        cmd.args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "Ines Dupont")
            .env("GIT_AUTHOR_EMAIL", "ines@acme-retail.example")
            .env("GIT_COMMITTER_NAME", "Ines Dupont")
            .env("GIT_COMMITTER_EMAIL", "ines@acme-retail.example")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("GIT_AUTHOR_DATE")
            .env_remove("GIT_COMMITTER_DATE");
        if let Some(at) = author {
            cmd.env("GIT_AUTHOR_DATE", format!("@{} +0000", T0 + at));
        }
        if let Some(at) = committer {
            cmd.env("GIT_COMMITTER_DATE", format!("@{} +0000", T0 + at));
        }
        let out = cmd.output().expect("cannot run git: the tests need git installed");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn git(dir: &Path, args: &[&str]) -> String {
        git_dated(dir, None, None, args)
    }

    /// Commits a new file `name` authored and committed at `at`; returns the commit id.
    fn commit(dir: &Path, name: &str, at: i64) -> String {
        std::fs::write(dir.join(name), name).unwrap();
        git(dir, &["add", name]);
        git_dated(dir, Some(at), Some(at), &["commit", "-q", "-m", name]);
        git(dir, &["rev-parse", "HEAD"])
    }

    /// `git rev-list new ^old` with its times, computed by git itself.
    fn rev_list(dir: &Path, new: &str, old: Option<&str>) -> Vec<CommitTime> {
        let hidden = old.map(|o| format!("^{o}"));
        let mut args = vec!["rev-list", "--no-commit-header", "--format=%H %at %ct", new];
        args.extend(hidden.as_deref());
        args.push("--");
        git(dir, &args)
            .lines()
            .map(|line| {
                let fields: Vec<&str> = line.split(' ').collect();
                let [sha, at, ct] = fields[..] else {
                    panic!("unexpected rev-list line {line:?}")
                };
                CommitTime {
                    sha: sha.to_string(),
                    authored_at: at.parse::<i64>().unwrap() * 1000,
                    committed_at: ct.parse::<i64>().unwrap() * 1000,
                }
            })
            .collect()
    }

    fn shas(commits: &[CommitTime]) -> BTreeSet<&str> {
        commits.iter().map(|c| c.sha.as_str()).collect()
    }

    /// The ids of the interesting commits of [`build_history`].
    struct Built {
        a1: String,
        a2: String,
        direct: String,
        merge: String,
        b1: String,
        b2: String,
        squash: String,
        c1: String,
        c2: String,
        pushed: String,
        hotfix: String,
    }

    /// main: 1 ← 2 (tag r1) ← direct push ← merge of feature-a (a1, a2) ← squash of
    /// feature-b (b1, b2) ← feature-c (c1, c2) rebased onto main ← direct push (annotated
    /// tag r2). Branch hotfix: one commit on r1, diverged from main.
    fn build_history(dir: &Path) -> Built {
        std::fs::create_dir_all(dir).unwrap();
        git(dir, &["init", "-q", "-b", "main"]);
        commit(dir, "one", 1000);
        commit(dir, "two", 2000);
        git(dir, &["tag", "r1"]);
        git(dir, &["switch", "-q", "-c", "feature-a"]);
        let a1 = commit(dir, "a1", 3000);
        let a2 = commit(dir, "a2", 4000);
        git(dir, &["switch", "-q", "main"]);
        let direct = commit(dir, "direct", 3500);
        git_dated(
            dir,
            Some(5000),
            Some(5000),
            &["merge", "-q", "--no-ff", "-m", "merge a", "feature-a"],
        );
        let merge = git(dir, &["rev-parse", "HEAD"]);
        git(dir, &["switch", "-q", "-c", "feature-b"]);
        let b1 = commit(dir, "b1", 6000);
        let b2 = commit(dir, "b2", 6500);
        git(dir, &["switch", "-q", "main"]);
        git(dir, &["merge", "-q", "--squash", "feature-b"]);
        git_dated(dir, Some(7000), Some(7000), &["commit", "-q", "-m", "squash b"]);
        let squash = git(dir, &["rev-parse", "HEAD"]);
        git(dir, &["switch", "-q", "-c", "feature-c", &merge]);
        commit(dir, "c1", 7500);
        commit(dir, "c2", 8000);
        git_dated(dir, None, Some(9000), &["rebase", "-q", "main"]);
        let c2 = git(dir, &["rev-parse", "HEAD"]);
        let c1 = git(dir, &["rev-parse", "HEAD^"]);
        git(dir, &["switch", "-q", "main"]);
        git(dir, &["merge", "-q", "--ff-only", "feature-c"]);
        let pushed = commit(dir, "pushed", 10_000);
        git_dated(dir, Some(10_000), Some(10_000), &["tag", "-a", "-m", "release 2", "r2"]);
        git(dir, &["switch", "-q", "-c", "hotfix", "r1"]);
        let hotfix = commit(dir, "hotfix", 11_000);
        Built {
            a1,
            a2,
            direct,
            merge,
            b1,
            b2,
            squash,
            c1,
            c2,
            pushed,
            hotfix,
        }
    }

    #[test]
    fn a_move_brings_what_git_rev_list_lists() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("r");
        let b = build_history(&repo);

        let moves: &[(&str, Option<&str>)] = &[
            ("r2", Some("r1")),
            ("r2", Some("r2")),
            ("r2", None),
            ("hotfix", Some("r2")),
            ("r2", Some("hotfix")),
            ("feature-b", Some("r2")),
            ("r1", Some("r2")),
            (&b.merge, Some(&b.a1)),
        ];
        let each = commits_between_each(&repo, moves).unwrap();
        for ((new, old), got) in moves.iter().zip(&each) {
            let mut want = rev_list(&repo, new, *old);
            let mut sorted = got.clone();
            sorted.sort_by(|x, y| x.sha.cmp(&y.sha));
            want.sort_by(|x, y| x.sha.cmp(&y.sha));
            assert_eq!(sorted, want, "{new} ^{old:?}");
            assert!(
                got.windows(2).all(|w| w[0].committed_at >= w[1].committed_at),
                "{new} ^{old:?} is newest first: {got:?}"
            );
            assert_eq!(
                &commits_between(&repo, new, *old).unwrap(),
                got,
                "one move alone, {new} ^{old:?}"
            );
        }

        let release = shas(&each[0]);
        let expected: BTreeSet<&str> = [&b.direct, &b.a1, &b.a2, &b.merge, &b.squash, &b.c1, &b.c2, &b.pushed]
            .into_iter()
            .map(String::as_str)
            .collect();
        assert_eq!(
            release, expected,
            "merged, squashed, rebased and pushed commits, not b1 and b2"
        );
        let rebased = each[0].iter().find(|c| c.sha == b.c1).unwrap();
        assert_eq!(
            (rebased.authored_at, rebased.committed_at),
            ((T0 + 7500) * 1000, (T0 + 9000) * 1000),
            "a rebased commit keeps its author time"
        );
        assert!(each[1].is_empty(), "old == new brings nothing");
        assert_eq!(each[2].len(), 10, "a first release brings the whole history");
        assert_eq!(shas(&each[3]), BTreeSet::from([b.hotfix.as_str()]));
        assert_eq!(
            shas(&each[4]),
            release,
            "leaving the hotfix branch brings main's commits"
        );
        assert_eq!(shas(&each[5]), BTreeSet::from([b.b1.as_str(), b.b2.as_str()]));
        assert!(each[6].is_empty(), "moving back brings nothing");
        assert_eq!(
            shas(&each[7]),
            BTreeSet::from([b.a2.as_str(), b.merge.as_str(), b.direct.as_str()])
        );
    }

    #[test]
    fn a_first_release_can_be_capped() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("r");
        build_history(&repo);
        let all = commits_between(&repo, "r2", None).unwrap();
        let mut history = History::open(&repo).unwrap().limit_first_release(3);
        assert_eq!(history.commits_between("r2", None).unwrap(), all[..3]);
        assert_eq!(
            history.commits_between("r2", Some("r1")).unwrap().len(),
            8,
            "moves are not capped"
        );
    }

    #[test]
    fn an_unknown_revision_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("r");
        build_history(&repo);
        for (new, old) in [("v9.9", Some("r1")), ("r2", Some("v9.9"))] {
            let err = commits_between(&repo, new, old).unwrap_err();
            assert!(
                matches!(&err, HistoryError::UnknownRevision { rev, .. } if rev == "v9.9"),
                "{err:?}"
            );
            let message = err.to_string();
            assert!(
                message.contains("`v9.9`") && message.contains(&repo.display().to_string()),
                "{message}"
            );
        }
        let missing = "0123456789012345678901234567890123456789";
        let err = commits_between(&repo, missing, None).unwrap_err();
        assert!(err.to_string().contains(missing), "{err}");
        let err = commits_between(&repo, "r2^{tree}", None).unwrap_err();
        assert!(matches!(err, HistoryError::NotACommit { .. }), "{err:?}");
        let err = commits_between(Path::new("/no/such/repo"), "main", None).unwrap_err();
        assert_eq!(err.to_string(), "repository /no/such/repo does not exist");
    }

    /// A `git fast-import` stream under construction; commits are numbered by their mark.
    #[derive(Default)]
    struct Import {
        stream: String,
        marks: usize,
    }

    impl Import {
        /// Adds a commit on `branch` after commit `from` (none for 0), merging `merge`, that
        /// rewrites one file; committed a minute after the previous one, authored an hour
        /// before. Returns its mark.
        fn commit(&mut self, branch: &str, from: usize, merge: Option<usize>) -> usize {
            use std::fmt::Write;
            self.marks += 1;
            let mark = self.marks;
            let at = T0 + mark as i64 * 60;
            let message = format!("commit {mark}");
            let s = &mut self.stream;
            let _ = writeln!(s, "commit refs/heads/{branch}\nmark :{mark}");
            let _ = writeln!(s, "author Ines Dupont <ines@acme-retail.example> {} +0000", at - 3600);
            let _ = writeln!(s, "committer Ines Dupont <ines@acme-retail.example> {at} +0000");
            let _ = writeln!(s, "data {}\n{message}", message.len());
            if from > 0 {
                let _ = writeln!(s, "from :{from}");
            }
            if let Some(side) = merge {
                let _ = writeln!(s, "merge :{side}");
            }
            let content = mark.to_string();
            let _ = writeln!(s, "M 644 inline counter.txt\ndata {}\n{content}\n", content.len());
            mark
        }
    }

    /// Builds a repository of about `commits` commits on main, with a three-commit branch
    /// merged every 50 commits and a release tag every `commits / 64`; returns the tags.
    fn import_history(dir: &Path, commits: usize) -> Vec<String> {
        let mut import = Import::default();
        let mut main_tip = 0;
        let mut releases = Vec::new();
        for n in 1.. {
            if import.marks >= commits {
                break;
            }
            let merge = (n % 50 == 0).then(|| {
                let mut side = main_tip;
                for _ in 0..3 {
                    side = import.commit("side", side, None);
                }
                side
            });
            main_tip = import.commit("main", main_tip, merge);
            if import.marks / (commits / 64) > releases.len() {
                let tag = format!("r{}", releases.len());
                import.stream += &format!("reset refs/tags/{tag}\nfrom :{main_tip}\n\n");
                releases.push(tag);
            }
        }
        std::fs::create_dir_all(dir).unwrap();
        git(dir, &["init", "-q", "-b", "main"]);
        let mut child = Command::new("git")
            .args(["fast-import", "--quiet"])
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), import.stream.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success(), "git fast-import failed");
        releases
    }

    /// Times 25 markets making 10 moves each on a 20,000-commit history. Run with
    /// `cargo test --release -p tandem-engine --lib history::tests::scale -- --ignored --nocapture`.
    #[test]
    #[ignore = "builds a 20,000-commit repository; prints timings"]
    fn scale() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("r");
        let started = std::time::Instant::now();
        let releases = import_history(&repo, 20_000);
        let total: usize = git(&repo, &["rev-list", "--count", "main"]).parse().unwrap();
        println!(
            "built {total} commits, {} releases in {:?}",
            releases.len(),
            started.elapsed()
        );

        // Market m starts at release m and moves 1 to 3 releases at a time.
        let mut moves = Vec::new();
        for market in 0..25 {
            let step = 1 + market % 3;
            for k in 0..10 {
                let old = &releases[market + k * step];
                let new = &releases[market + (k + 1) * step];
                moves.push((new.as_str(), Some(old.as_str())));
            }
        }
        let distinct: BTreeSet<_> = moves.iter().collect();

        for graph in [false, true] {
            if graph {
                git(&repo, &["commit-graph", "write", "--reachable"]);
            }
            let label = if graph {
                "with a commit-graph"
            } else {
                "without a commit-graph"
            };
            let started = std::time::Instant::now();
            let each = commits_between_each(&repo, &moves).unwrap();
            let batch = started.elapsed();
            let brought: usize = each.iter().map(Vec::len).sum();
            let started = std::time::Instant::now();
            for (new, old) in &moves {
                commits_between(&repo, new, *old).unwrap();
            }
            let one_by_one = started.elapsed();
            let started = std::time::Instant::now();
            let first = commits_between(&repo, "main", None).unwrap();
            let whole = started.elapsed();
            println!(
                "{label}: {} moves ({} distinct, {brought} commits brought) in {batch:?} as a batch, \
                 {one_by_one:?} opening the repository per move; a first release of {} commits in {whole:?}",
                moves.len(),
                distinct.len(),
                first.len(),
            );
            assert_eq!(first.len(), total);
            for (i, (new, old)) in moves.iter().enumerate().step_by(37) {
                assert_eq!(shas(&each[i]), shas(&rev_list(&repo, new, *old)), "{new} ^{old:?}");
            }
        }
    }
}
