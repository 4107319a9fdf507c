//! Static files served by mounts: URL prefix -> directory.
//!
//! Paths are percent-decoded and their dot segments resolved, and files are
//! opened with `openat2(RESOLVE_BENEATH)` relative to the mount's directory,
//! so neither `..` nor a symlink can reach outside it (the kernel enforces
//! it). Supports `index.html`, `ETag`/`Last-Modified` with 304, single byte
//! ranges (206/416), HEAD, and MIME types by extension. Small files go out
//! with their head in one write; larger ones stream one chunk per writable.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::OwnedFd;
use std::time::SystemTime;

use lws_core::ConnCx;
use rustix::fs::{Mode, OFlags, ResolveFlags};

use crate::parse::range::{self, RangeOutcome};
use crate::server::config::Mount;
use crate::server::exchange::{ExState, HttpError, RespState};
use crate::server::request::Request;

/// The request and its exchange state, together.
pub(crate) struct Ex<'r> {
    pub req: &'r Request,
    pub st: &'r mut ExState,
}

impl Ex<'_> {
    fn write_head(
        &mut self,
        conn: &mut ConnCx<'_>,
        status: u16,
        headers: &[(&str, &str)],
        length: Option<u64>,
        body: &[u8],
    ) -> Result<(), HttpError> {
        self.st
            .write_head(self.req, conn, status, headers, length, body)
            .map(|_| ())
    }
}

/// Files up to this size are read whole and sent with their head.
const INLINE_MAX: u64 = 64 * 1024;
/// Chunk size while streaming a larger file.
const CHUNK: usize = 64 * 1024;

/// A file being streamed as a response body.
#[derive(Debug)]
pub(crate) struct FileSend {
    file: File,
    remaining: u64,
}

/// The mount serving `path` (longest prefix), if any.
pub(crate) fn find_mount<'m, T>(mounts: &'m [(Mount, T)], path: &str) -> Option<&'m (Mount, T)> {
    mounts
        .iter()
        .filter(|(m, _)| path.starts_with(&m.prefix) || path == m.prefix.trim_end_matches('/'))
        .max_by_key(|(m, _)| m.prefix.len())
}

/// Decode and normalise the part of `path` below the mount; `None` if it
/// would leave the mount or is not a valid path.
pub(crate) fn relative_path(mount: &Mount, path: &str) -> Option<String> {
    let rest = path.get(mount.prefix.len().min(path.len())..).unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(rest)
        .decode_utf8()
        .ok()?;
    let mut segs: Vec<&str> = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segs.pop()?;
            }
            s if s.contains('\0') || s.contains('\\') => return None,
            s => segs.push(s),
        }
    }
    Some(segs.join("/"))
}

fn open_beneath(dir: &OwnedFd, rel: &str) -> std::io::Result<File> {
    let rel = if rel.is_empty() { "." } else { rel };
    let fd = rustix::fs::openat2(
        dir,
        rel,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
    )?;
    Ok(File::from(fd))
}

/// Serve `ex`'s request from `mount`. Always produces a response.
pub(crate) fn serve(
    mount: &Mount,
    dir: &OwnedFd,
    req: &Request,
    ex: &mut ExState,
    conn: &mut ConnCx<'_>,
) -> Result<(), HttpError> {
    let ex = &mut Ex { req, st: ex };
    let path = ex.req.path().to_owned();
    if path == mount.prefix.trim_end_matches('/') && !path.is_empty() {
        return redirect(ex, conn, &mount.prefix);
    }
    let Some(rel) = relative_path(mount, &path) else {
        return error(ex, conn, 403, &[]);
    };
    let Ok(mut file) = open_beneath(dir, &rel) else {
        return error(ex, conn, 404, &[]);
    };
    let Ok(mut meta) = file.metadata() else {
        return error(ex, conn, 404, &[]);
    };
    let mut served_rel = rel.clone();
    if meta.is_dir() {
        if !path.ends_with('/') {
            return redirect(ex, conn, &format!("{path}/"));
        }
        served_rel = if rel.is_empty() {
            mount.index.clone()
        } else {
            format!("{rel}/{}", mount.index)
        };
        match open_beneath(dir, &served_rel).and_then(|f| Ok((f.metadata()?, f))) {
            Ok((m, f)) if m.is_file() => (meta, file) = (m, f),
            _ => return error(ex, conn, 404, &[]),
        }
    }
    if !meta.is_file() {
        return error(ex, conn, 404, &[]);
    }
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    send_file(ex, conn, file, meta.len(), modified, &served_rel)
}

fn send_file(
    ex: &mut Ex<'_>,
    conn: &mut ConnCx<'_>,
    mut file: File,
    len: u64,
    modified: SystemTime,
    name: &str,
) -> Result<(), HttpError> {
    let tag = range::etag(len, modified);
    let last_mod = httpdate::fmt_http_date(modified);
    let mime = content_type(name);
    let h = ex.req.headers();
    let mut headers = vec![
        ("ETag", tag.as_str()),
        ("Last-Modified", last_mod.as_str()),
        ("Accept-Ranges", "bytes"),
    ];
    if range::not_modified(
        h.get_str("if-none-match"),
        h.get_str("if-modified-since"),
        &tag,
        modified,
    ) {
        ex.write_head(conn, 304, &headers, None, &[])?;
        return Ok(());
    }
    headers.push(("Content-Type", mime.as_str()));
    let range_hdr = h
        .get_str("range")
        .filter(|_| range::if_range_matches(h.get_str("if-range"), &tag, modified));
    let (status, start, count, content_range) = match range::evaluate_range(range_hdr, len) {
        RangeOutcome::Full => (200, 0, len, None),
        RangeOutcome::Partial { start, end } => (
            206,
            start,
            end - start + 1,
            Some(format!("bytes {start}-{end}/{len}")),
        ),
        RangeOutcome::Unsatisfiable => {
            let cr = format!("bytes */{len}");
            return error(ex, conn, 416, &[("Content-Range", cr.as_str())]);
        }
    };
    if let Some(cr) = &content_range {
        headers.push(("Content-Range", cr.as_str()));
    }
    if start > 0 && file.seek(SeekFrom::Start(start)).is_err() {
        return error(ex, conn, 500, &[]);
    }
    if ex.req.is_head() || count > INLINE_MAX {
        ex.write_head(conn, status, &headers, Some(count), &[])?;
        if !ex.st.resp_done() {
            ex.st.resp = RespState::File(FileSend {
                file,
                remaining: count,
            });
            conn.request_writable();
        }
        return Ok(());
    }
    let mut body = Vec::with_capacity(count as usize);
    if file.take(count).read_to_end(&mut body).is_err() || body.len() as u64 != count {
        return error(ex, conn, 500, &[]);
    }
    ex.write_head(conn, status, &headers, Some(count), &body)?;
    Ok(())
}

/// Send the next chunk of a streamed file; `true` when it is all sent.
pub(crate) fn pump(send: &mut FileSend, conn: &mut ConnCx<'_>) -> Result<bool, HttpError> {
    let want = send.remaining.min(CHUNK as u64) as usize;
    let mut buf = vec![0u8; want];
    let n = match send.file.read(&mut buf) {
        Ok(0) | Err(_) => {
            // The file shrank under us: the announced length cannot be met.
            conn.close(lws_core::CloseReason::Protocol(
                "file shrank while sending".into(),
            ));
            return Ok(true);
        }
        Ok(n) => n,
    };
    conn.write(&buf[..n]).map_err(HttpError::Write)?;
    send.remaining -= n as u64;
    Ok(send.remaining == 0)
}

fn content_type(name: &str) -> String {
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    match (mime.type_(), mime.get_param("charset")) {
        (mime_guess::mime::TEXT, None) => format!("{mime}; charset=utf-8"),
        _ => mime.to_string(),
    }
}

fn redirect(ex: &mut Ex<'_>, conn: &mut ConnCx<'_>, to: &str) -> Result<(), HttpError> {
    ex.write_head(
        conn,
        301,
        &[("Location", to), ("Content-Type", "text/plain")],
        Some(0),
        &[],
    )?;
    Ok(())
}

/// A short text error response.
pub(crate) fn error(
    ex: &mut Ex<'_>,
    conn: &mut ConnCx<'_>,
    status: u16,
    extra: &[(&str, &str)],
) -> Result<(), HttpError> {
    let body = format!("{status} {}\n", crate::parse::response::reason(status));
    let mut headers = vec![("Content-Type", "text/plain; charset=utf-8")];
    headers.extend_from_slice(extra);
    ex.write_head(
        conn,
        status,
        &headers,
        Some(body.len() as u64),
        body.as_bytes(),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_cannot_leave_the_mount() {
        let m = Mount::dir("/static/", "x");
        assert_eq!(
            relative_path(&m, "/static/a/b.txt").as_deref(),
            Some("a/b.txt")
        );
        assert_eq!(
            relative_path(&m, "/static/a/../b.txt").as_deref(),
            Some("b.txt")
        );
        assert_eq!(relative_path(&m, "/static/./a//b").as_deref(), Some("a/b"));
        assert_eq!(relative_path(&m, "/static/../etc/passwd"), None);
        assert_eq!(relative_path(&m, "/static/%2e%2e/etc/passwd"), None);
        assert_eq!(relative_path(&m, "/static/a%2f..%2f..%2fx"), None);
        assert_eq!(relative_path(&m, "/static/a%00b"), None);
        assert_eq!(relative_path(&m, "/static/%ff"), None, "not UTF-8");
    }

    #[test]
    fn longest_prefix_wins() {
        let mounts = vec![(Mount::dir("/", "a"), ()), (Mount::dir("/static", "b"), ())];
        assert_eq!(
            find_mount(&mounts, "/static/x").map(|(m, _)| m.prefix.as_str()),
            Some("/static/")
        );
        assert_eq!(
            find_mount(&mounts, "/other").map(|(m, _)| m.prefix.as_str()),
            Some("/")
        );
    }
}
