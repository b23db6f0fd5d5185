//! Reading a service's repository with gix: resolve a branch, read history, read a file at a
//! commit, and write a commit's tree into a fresh folder. All blocking: call from
//! `spawn_blocking`.

use crate::Result;
use anyhow::Context;
use gix::bstr::ByteSlice;
use std::path::Path;
use tandem_store::NewCommit;

fn open(repo: &Path) -> Result<gix::Repository> {
    if !repo.exists() {
        return Err(crate::Error::refused(format!(
            "repository {} does not exist",
            repo.display()
        )));
    }
    gix::open(repo).map_err(|e| {
        crate::Error::refused(format!(
            "{} is not a git repository: {:#}",
            repo.display(),
            anyhow::Error::from(e)
        ))
    })
}

/// The commit id a branch (or any revision) points at.
pub fn resolve(repo: &Path, rev: &str) -> Result<String> {
    let repo_handle = open(repo)?;
    let id = repo_handle
        .rev_parse_single(rev)
        .with_context(|| format!("cannot find `{rev}` in {}", repo.display()))?;
    let commit = id
        .object()
        .context("cannot read the revision's object")?
        .peel_to_commit()
        .with_context(|| format!("`{rev}` does not point at a commit"))?;
    Ok(commit.id().to_string())
}

/// The commit branch `branch` points at: the local ref `refs/heads/<branch>` only, so a tag
/// or another ref of the same name never stands in for the branch.
pub fn branch_head(repo: &Path, branch: &str) -> Result<String> {
    let handle = open(repo)?;
    Ok(head_of(&handle, repo, branch)?.to_string())
}

fn head_of(handle: &gix::Repository, repo: &Path, branch: &str) -> Result<gix::ObjectId> {
    let name = format!("refs/heads/{branch}");
    let mut reference = handle
        .try_find_reference(name.as_str())
        .with_context(|| format!("cannot read `{name}` in {}", repo.display()))?
        .ok_or_else(|| crate::Error::refused(format!("branch `{branch}` does not exist in {}", repo.display())))?;
    Ok(reference
        .peel_to_commit()
        .with_context(|| format!("branch `{branch}` of {} does not point at a commit", repo.display()))?
        .id)
}

/// Where a commit stands on a branch, as the repository has it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnBranch {
    /// The commit is the branch's head.
    Head,
    /// The branch already holds the commit, below its head.
    Ancestor { head: String },
    /// The repository has the commit, but the branch does not hold it.
    Elsewhere { head: String },
    /// The repository has no such commit.
    Unknown { head: String },
}

/// Where commit `sha` stands on branch `branch` (the local ref `refs/heads/<branch>`, never a
/// tag or a remote-tracking ref of the same name).
pub fn locate_on_branch(repo: &Path, branch: &str, sha: &str) -> Result<OnBranch> {
    let handle = open(repo)?;
    let head = head_of(&handle, repo, branch)?;
    let commit = gix::ObjectId::from_hex(sha.as_bytes()).with_context(|| format!("`{sha}` is not a commit id"))?;
    let head_hex = head.to_string();
    if commit == head {
        return Ok(OnBranch::Head);
    }
    let is_commit = handle
        .try_find_header(commit)
        .with_context(|| format!("cannot look up commit {sha} in {}", repo.display()))?
        .is_some_and(|h| h.kind() == gix::object::Kind::Commit);
    if !is_commit {
        return Ok(OnBranch::Unknown { head: head_hex });
    }
    let base = handle
        .merge_base(commit, head)
        .with_context(|| format!("cannot compare {sha} with branch `{branch}` in {}", repo.display()))?;
    Ok(match base {
        Some(base) if base.detach() == commit => OnBranch::Ancestor { head: head_hex },
        _ => OnBranch::Elsewhere { head: head_hex },
    })
}

/// Whether the repository holds commit `sha`.
pub fn has_commit(repo: &Path, sha: &str) -> Result<bool> {
    let handle = open(repo)?;
    let id = gix::ObjectId::from_hex(sha.as_bytes()).with_context(|| format!("`{sha}` is not a commit id"))?;
    Ok(handle
        .try_find_header(id)
        .with_context(|| format!("cannot look up commit {sha} in {}", repo.display()))?
        .is_some_and(|h| h.kind() == gix::object::Kind::Commit))
}

/// Commits reachable from `tip`, newest first, at most `limit`.
pub fn read_history(repo: &Path, tip: &str, limit: usize) -> Result<Vec<NewCommit>> {
    let repo = open(repo)?;
    let tip = gix::ObjectId::from_hex(tip.as_bytes()).with_context(|| format!("`{tip}` is not a commit id"))?;
    let walk = repo.rev_walk([tip]).all().context("cannot walk the history")?;
    let mut out = Vec::new();
    for info in walk.take(limit) {
        let info = info.context("cannot read a commit of the history")?;
        let commit = repo.find_commit(info.id).context("cannot read a commit")?;
        let author = commit.author().context("cannot read a commit's author")?;
        let authored_at = author.time().map(|t| t.seconds * 1000).unwrap_or(0);
        let committed_at = commit.time().map(|t| t.seconds * 1000).unwrap_or(authored_at);
        out.push(NewCommit {
            sha: info.id.to_string(),
            parents: commit.parent_ids().map(|p| p.to_string()).collect(),
            author: format!(
                "{} <{}>",
                author.name.trim().to_str_lossy(),
                author.email.trim().to_str_lossy()
            ),
            authored_at,
            committed_at,
            message: commit.message_raw_sloppy().to_str_lossy().trim_end().to_string(),
        });
    }
    Ok(out)
}

/// The tree of commit `sha`.
fn commit_tree<'r>(repo: &'r gix::Repository, sha: &str) -> Result<gix::Tree<'r>> {
    let id = gix::ObjectId::from_hex(sha.as_bytes()).with_context(|| format!("`{sha}` is not a commit id"))?;
    let commit = repo
        .find_commit(id)
        .with_context(|| format!("cannot read commit {sha}"))?;
    Ok(commit.tree().context("cannot read the commit's tree")?)
}

/// Every file of a commit's tree: path → blob id.
fn flatten(repo: &gix::Repository, sha: &str) -> Result<std::collections::HashMap<String, gix::ObjectId>> {
    let tree = commit_tree(repo, sha)?;
    let mut recorder = gix::traverse::tree::Recorder::default();
    tree.traverse()
        .breadthfirst(&mut recorder)
        .context("cannot walk the commit's tree")?;
    Ok(recorder
        .records
        .into_iter()
        .filter(|e| !e.mode.is_tree())
        .map(|e| (e.filepath.to_str_lossy().into_owned(), e.oid))
        .collect())
}

/// Paths that differ between two commits (added, removed or changed), sorted. Without `from`,
/// the commit's first parent is used; a root commit changes every path.
pub fn changed_paths(repo: &Path, from: Option<&str>, to: &str) -> Result<Vec<String>> {
    let repo = open(repo)?;
    let from = match from {
        Some(f) => Some(f.to_string()),
        None => {
            let id = gix::ObjectId::from_hex(to.as_bytes()).with_context(|| format!("`{to}` is not a commit id"))?;
            let commit = repo
                .find_commit(id)
                .with_context(|| format!("cannot read commit {to}"))?;
            commit.parent_ids().next().map(|p| p.to_string())
        }
    };
    let after = flatten(&repo, to)?;
    let before = match from {
        Some(f) => flatten(&repo, &f)?,
        None => Default::default(),
    };
    let mut changed: Vec<String> = after
        .iter()
        .filter(|(path, id)| before.get(*path) != Some(id))
        .map(|(p, _)| p.clone())
        .chain(before.keys().filter(|p| !after.contains_key(*p)).cloned())
        .collect();
    changed.sort();
    Ok(changed)
}

/// A file's bytes at a commit, or `None` when the commit has no such file.
pub fn read_file(repo: &Path, sha: &str, path: &str) -> Result<Option<Vec<u8>>> {
    let repo = open(repo)?;
    let tree = commit_tree(&repo, sha)?;
    let Some(entry) = tree.lookup_entry_by_path(path).context("cannot look up the file")? else {
        return Ok(None);
    };
    if !entry.mode().is_blob() {
        return Ok(None);
    }
    Ok(Some(entry.object().context("cannot read the file")?.detach().data))
}

/// Writes the tree of commit `sha` into `dest` (which must not exist yet); returns the number
/// of files written. Symbolic links and submodules are skipped.
pub fn checkout(repo: &Path, sha: &str, dest: &Path) -> Result<usize> {
    let repo = open(repo)?;
    let tree = commit_tree(&repo, sha)?;
    let mut recorder = gix::traverse::tree::Recorder::default();
    tree.traverse()
        .breadthfirst(&mut recorder)
        .context("cannot walk the commit's tree")?;
    std::fs::create_dir(dest).with_context(|| format!("cannot create workspace {}", dest.display()))?;
    let mut files = 0;
    for entry in recorder.records {
        let rel = entry
            .filepath
            .to_str()
            .map_err(|_| crate::Error::invalid("a path in the repository is not UTF-8"))?;
        if rel.split('/').any(|part| part == ".." || part.is_empty()) {
            return Err(crate::Error::invalid_at(
                rel,
                format!("the repository holds an unsafe path `{rel}`"),
            ));
        }
        let path = dest.join(rel);
        if entry.mode.is_tree() {
            std::fs::create_dir_all(&path).with_context(|| format!("cannot create {}", path.display()))?;
        } else if entry.mode.is_blob() {
            let data = repo
                .find_object(entry.oid)
                .context("cannot read a file of the commit")?
                .detach()
                .data;
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::write(&path, data).with_context(|| format!("cannot write {}", path.display()))?;
            if entry.mode.is_executable() {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                    .with_context(|| format!("cannot make {} executable", path.display()))?;
            }
            files += 1;
        }
    }
    Ok(files)
}

/// Copies a tree written by [`checkout`] (plain files and folders only) into `dest`, which
/// must not exist yet; returns the number of files copied. Copies, never links: a job that
/// edits a file in place must not change the tree other jobs start from.
pub fn copy_tree(src: &Path, dest: &Path) -> Result<usize> {
    std::fs::create_dir(dest).with_context(|| format!("cannot create workspace {}", dest.display()))?;
    let mut files = 0;
    let mut stack = vec![(src.to_path_buf(), dest.to_path_buf())];
    while let Some((from, to)) = stack.pop() {
        for entry in std::fs::read_dir(&from).with_context(|| format!("cannot list {}", from.display()))? {
            let entry = entry.with_context(|| format!("cannot list {}", from.display()))?;
            let kind = entry
                .file_type()
                .with_context(|| format!("cannot list {}", from.display()))?;
            let target = to.join(entry.file_name());
            if kind.is_dir() {
                std::fs::create_dir(&target).with_context(|| format!("cannot create {}", target.display()))?;
                stack.push((entry.path(), target));
            } else if kind.is_file() {
                // Permissions come along, so executable files stay executable.
                std::fs::copy(entry.path(), &target).with_context(|| format!("cannot write {}", target.display()))?;
                files += 1;
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use tandem_testkit::make_repo;

    #[test]
    fn reads_history_files_and_checks_out() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("r");
        make_repo(
            &repo,
            &[("T-1: first", "a.txt", "one"), ("T-2: second", "src/b.txt", "two")],
        );
        let tip = resolve(&repo, "main").unwrap();
        let history = read_history(&repo, &tip, 10).unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].message, "T-2: second");
        assert_eq!(history[0].parents, [history[1].sha.clone()]);
        assert_eq!(history[0].author, "Ines Dupont <ines@acme-retail.example>");
        assert_eq!(read_file(&repo, &tip, "src/b.txt").unwrap().unwrap(), b"two");
        assert!(read_file(&repo, &tip, "nope").unwrap().is_none());
        let ws = dir.path().join("ws");
        assert_eq!(checkout(&repo, &history[1].sha, &ws).unwrap(), 1);
        assert_eq!(std::fs::read_to_string(ws.join("a.txt")).unwrap(), "one");
        assert!(!ws.join("src").exists());
        let tree = dir.path().join("tree");
        assert_eq!(checkout(&repo, &tip, &tree).unwrap(), 2);
        std::fs::set_permissions(tree.join("src/b.txt"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let copy = dir.path().join("copy");
        assert_eq!(copy_tree(&tree, &copy).unwrap(), 2);
        assert_eq!(std::fs::read_to_string(copy.join("src/b.txt")).unwrap(), "two");
        assert_eq!(
            std::fs::metadata(copy.join("src/b.txt")).unwrap().permissions().mode() & 0o777,
            0o755
        );
        std::fs::write(copy.join("a.txt"), "changed").unwrap();
        assert_eq!(
            std::fs::read_to_string(tree.join("a.txt")).unwrap(),
            "one",
            "a copy, not a link"
        );
        assert_eq!(changed_paths(&repo, None, &tip).unwrap(), ["src/b.txt"]);
        assert_eq!(changed_paths(&repo, None, &history[1].sha).unwrap(), ["a.txt"]);
        assert_eq!(
            changed_paths(&repo, Some(&tip), &history[1].sha).unwrap(),
            ["src/b.txt"]
        );
    }

    #[test]
    fn a_commit_is_located_on_the_branch_and_nowhere_else() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("r");
        make_repo(&repo, &[("one", "a.txt", "1"), ("two", "a.txt", "2")]);
        let head = resolve(&repo, "main").unwrap();
        let parent = resolve(&repo, "main~1").unwrap();
        tandem_testkit::git(&repo, &["checkout", "-q", "-b", "feature"]);
        std::fs::write(repo.join("a.txt"), "evil").unwrap();
        tandem_testkit::git(&repo, &["commit", "-q", "-am", "unreviewed"]);
        let feature = resolve(&repo, "feature").unwrap();
        // A tag named like the branch must not stand in for it.
        tandem_testkit::git(&repo, &["tag", "main", &feature]);

        assert_eq!(locate_on_branch(&repo, "main", &head).unwrap(), OnBranch::Head);
        let on = |sha: &str| locate_on_branch(&repo, "main", sha).unwrap();
        assert_eq!(on(&parent), OnBranch::Ancestor { head: head.clone() });
        assert_eq!(on(&feature), OnBranch::Elsewhere { head: head.clone() });
        assert_eq!(on(&"ab".repeat(20)), OnBranch::Unknown { head: head.clone() });
        assert_eq!(
            locate_on_branch(&repo, "feature", &head).unwrap(),
            OnBranch::Ancestor { head: feature.clone() }
        );
        assert_eq!(branch_head(&repo, "main").unwrap(), head, "the branch, not the tag");
        let err = locate_on_branch(&repo, "nope", &head).unwrap_err();
        assert!(err.to_string().contains("branch `nope` does not exist"), "{err}");
    }

    #[test]
    fn a_missing_repository_is_named() {
        let err = resolve(Path::new("/no/such/repo"), "main").unwrap_err();
        assert!(err.to_string().contains("/no/such/repo does not exist"), "{err}");
    }
}
