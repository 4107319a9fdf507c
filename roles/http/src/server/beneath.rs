//! Opening a file beneath a mount's directory, so that neither `..` nor a
//! symlink can reach outside it.
//!
//! Two resolvers give the same guarantees:
//! - the kernel's: `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`;
//! - a walk, for kernels or seccomp profiles that refuse `openat2`
//!   (ENOSYS, EPERM): one `openat(O_NOFOLLOW)` per path component from
//!   the directory's descriptor; a symlink met on the way is read with
//!   `readlinkat` and its target resolved the same way, component by
//!   component, against the directories already opened.
//!
//! Symlinks policy (both resolvers): a symlink whose target stays inside
//! the mount is followed (at most [`MAX_LINKS`] per lookup); an absolute
//! target, or one whose `..` would climb above the mount's directory,
//! fails the lookup (EXDEV), as `RESOLVE_BENEATH` does. Which resolver a
//! mount uses is probed once when it opens ([`MountDir::open`]).
//!
//! Files open with `O_NONBLOCK` so that a FIFO in the tree cannot block
//! the service thread (it is then refused as not a regular file).
//!
//! This module must not interpret URLs (that is `files`): it takes a
//! relative path whose `..` segments were already resolved.

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use crate::server::config::{Beneath, Mount};

/// Most symlinks followed in one lookup (the kernel's limit too).
pub const MAX_LINKS: usize = 40;

/// A mount's directory, opened, with the resolver chosen for it.
#[derive(Debug)]
pub(crate) struct MountDir {
    fd: OwnedFd,
    walk: bool,
}

fn file_flags() -> OFlags {
    OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK
}

/// The kernel refuses `openat2` itself (old kernel, seccomp filter), as
/// opposed to refusing one path.
fn openat2_refused(e: Errno) -> bool {
    matches!(e, Errno::NOSYS | Errno::PERM | Errno::INVAL | Errno::TOOBIG)
}

impl MountDir {
    /// Open the mount's directory and pick its resolver: `openat2` if a
    /// probe lookup succeeds, else the walk (logged once). Fails with a
    /// message naming the directory.
    pub fn open(mount: &Mount) -> io::Result<Self> {
        let named = |e: Errno, what: &str| {
            io::Error::new(
                io::Error::from(e).kind(),
                format!("mount {}: {what}: {e}", mount.dir.display()),
            )
        };
        let fd = open_dir(&mount.dir).map_err(|e| named(e, "open"))?;
        let walk = match mount.beneath {
            Beneath::Walk => true,
            Beneath::Auto => match kernel_open(&fd, ".") {
                Ok(_) => false,
                Err(e) if openat2_refused(e) => {
                    log::info!(
                        "mount {}: openat2 refused ({e}); resolving paths component by component",
                        mount.dir.display()
                    );
                    true
                }
                Err(e) => return Err(named(e, "openat2 probe")),
            },
        };
        Ok(MountDir { fd, walk })
    }

    /// Whether lookups use the component walk.
    #[cfg(test)]
    pub fn walks(&self) -> bool {
        self.walk
    }

    /// Open `rel` (no `..` of its own; empty means the directory itself)
    /// beneath the mount's directory.
    pub fn open_file(&self, rel: &str) -> io::Result<File> {
        let rel = if rel.is_empty() { "." } else { rel };
        let fd = if self.walk {
            walk_open(&self.fd, rel)?
        } else {
            kernel_open(&self.fd, rel)?
        };
        Ok(File::from(fd))
    }
}

fn open_dir(dir: &Path) -> Result<OwnedFd, Errno> {
    rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

fn kernel_open(dir: &OwnedFd, rel: &str) -> Result<OwnedFd, Errno> {
    rustix::fs::openat2(
        dir,
        rel,
        file_flags(),
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
    )
}

/// Push the components of `path` so that the first pops first.
fn push_components(pending: &mut Vec<Vec<u8>>, path: &[u8]) {
    let comps = path.split(|&b| b == b'/');
    let kept = comps.filter(|c| !c.is_empty() && *c != b".");
    let mut comps: Vec<Vec<u8>> = kept.map(<[u8]>::to_vec).collect();
    comps.reverse();
    pending.extend(comps);
}

/// Resolve `rel` one component at a time, never letting the kernel
/// follow a symlink: `dirs` is the chain of directories opened below the
/// root, so `..` (from a symlink target) pops to the real parent and can
/// never go above the root.
fn walk_open(root: &OwnedFd, rel: &str) -> Result<OwnedFd, Errno> {
    let mut pending = Vec::new();
    push_components(&mut pending, rel.as_bytes());
    let mut dirs: Vec<OwnedFd> = Vec::new();
    let mut links = 0;
    while let Some(comp) = pending.pop() {
        if comp == b".." {
            dirs.pop().ok_or(Errno::XDEV)?;
            continue;
        }
        let cur = dirs.last().unwrap_or(root);
        let last = pending.is_empty();
        let flags = match last {
            true => file_flags() | OFlags::NOFOLLOW,
            // O_PATH: a directory we may search but not list still works,
            // as it does for the kernel's own lookup.
            false => OFlags::PATH | OFlags::CLOEXEC | OFlags::DIRECTORY | OFlags::NOFOLLOW,
        };
        match rustix::fs::openat(cur, comp.as_slice(), flags, Mode::empty()) {
            Ok(fd) if last => return Ok(fd),
            Ok(fd) => dirs.push(fd),
            Err(e @ (Errno::LOOP | Errno::NOTDIR)) => {
                // A symlink (or a non-directory in the middle).
                let target =
                    rustix::fs::readlinkat(cur, comp.as_slice(), Vec::new()).map_err(|_| e)?;
                links += 1;
                if links > MAX_LINKS {
                    return Err(Errno::LOOP);
                }
                let target = target.as_bytes();
                if target.starts_with(b"/") {
                    return Err(Errno::XDEV);
                }
                push_components(&mut pending, target);
            }
            Err(e) => return Err(e),
        }
    }
    // The path named a directory (or was `.`): open it.
    let cur = dirs.last().unwrap_or(root);
    rustix::fs::openat(cur, ".", file_flags(), Mode::empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::symlink;

    /// A tree with a file outside the root and symlinks of every kind.
    fn tree(name: &str) -> std::path::PathBuf {
        let base = std::env::temp_dir().join(format!("lws-beneath-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("root");
        std::fs::create_dir_all(root.join("a/b")).expect("dirs");
        std::fs::write(base.join("secret"), b"secret").expect("secret");
        std::fs::write(root.join("top.txt"), b"top").expect("file");
        std::fs::write(root.join("a/b/deep.txt"), b"deep").expect("file");
        let links: &[(&str, &str)] = &[
            ("up", "../secret"),
            ("a/up2", "../../secret"),
            ("abs", "/etc/passwd"),
            ("absdir", "/etc"),
            ("a/sibling", "../top.txt"),
            ("a/b/chain", "../sibling"),
            ("dirlink", "a/b"),
            ("a/uproot", ".."),
            ("loop1", "loop2"),
            ("loop2", "loop1"),
        ];
        for (link, target) in links {
            symlink(target, root.join(link)).expect("symlink");
        }
        root
    }

    fn read(dir: &MountDir, rel: &str) -> Result<String, io::ErrorKind> {
        let mut s = String::new();
        let mut f = dir.open_file(rel).map_err(|e| e.kind())?;
        f.read_to_string(&mut s).map_err(|e| e.kind())?;
        Ok(s)
    }

    /// Each row: path, what it must give. Run against both resolvers
    /// where the kernel has `openat2`; the walk always.
    #[test]
    fn neither_resolver_lets_a_path_out_of_the_mount() {
        let root = tree("rows");
        let rows: &[(&str, Option<&str>)] = &[
            ("top.txt", Some("top")),
            ("a/b/deep.txt", Some("deep")),
            ("dirlink/deep.txt", Some("deep")),
            ("a/sibling", Some("top")),
            ("a/b/chain", Some("top")),
            ("a/uproot/top.txt", Some("top")),
            ("up", None),
            ("a/up2", None),
            ("abs", None),
            ("absdir/passwd", None),
            ("a/uproot/../secret", None),
            ("loop1", None),
            ("missing.txt", None),
            ("top.txt/x", None),
        ];
        for beneath in [Beneath::Walk, Beneath::Auto] {
            let mut mount = Mount::dir("/", &root);
            mount.beneath = beneath;
            let dir = MountDir::open(&mount).expect("mount");
            if beneath == Beneath::Walk {
                assert!(dir.walks(), "forced walk");
            }
            for (path, want) in rows {
                let got = read(&dir, path).ok();
                assert_eq!(got.as_deref(), *want, "{path} ({beneath:?})");
            }
            assert!(dir.open_file("").is_ok(), "the root itself");
            assert!(dir.open_file("a/b").is_ok(), "a directory");
        }
        let _ = std::fs::remove_dir_all(root.parent().expect("base"));
    }

    #[test]
    fn a_fifo_does_not_block_the_lookup() {
        let root = tree("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            root.join("pipe"),
            rustix::fs::FileType::Fifo,
            Mode::from_bits_truncate(0o600),
            0,
        )
        .expect("mkfifo");
        for beneath in [Beneath::Walk, Beneath::Auto] {
            let mut mount = Mount::dir("/", &root);
            mount.beneath = beneath;
            let dir = MountDir::open(&mount).expect("mount");
            let f = dir.open_file("pipe").expect("opens without a writer");
            assert!(!f.metadata().expect("meta").is_file());
        }
        let _ = std::fs::remove_dir_all(root.parent().expect("base"));
    }
}
