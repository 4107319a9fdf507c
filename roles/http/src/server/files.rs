//! Static files served by mounts: URL prefix -> directory.
//!
//! Paths are percent-decoded and their dot segments resolved, and files
//! are opened relative to the mount's directory by `server::beneath`, so
//! neither `..` nor a symlink can reach outside it. Supports `index.html`,
//! `ETag`/`Last-Modified` with 304, single byte ranges (206/416), HEAD,
//! OPTIONS and 405 (with `Allow`) for other methods on what a mount
//! holds, and MIME types by extension. Small files go out with their head
//! in one write; larger ones stream one chunk per writable.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::time::SystemTime;

use lws_core::ConnCx;

use crate::parse::range::{self, RangeOutcome};
use crate::server::beneath::MountDir;
use crate::server::config::Mount;
use crate::server::exchange::{ExState, HttpError, RespState};
use crate::server::method::MOUNT_ALLOW;
use crate::server::request::Request;

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

/// The reply of the mount serving `req`'s path, if any: GET and HEAD are
/// served; to another method the mount answers only where it holds the
/// resource: 204 with `Allow` to OPTIONS, 405 with `Allow` to the rest
/// (RFC 9110 §9.3.7, §15.5.6). Elsewhere under the mount the request is
/// the handler's (e.g. `POST /upload` beside a mount at `/`).
pub(crate) fn mount_reply(mounts: &[(Mount, MountDir)], req: &Request) -> Option<FileReply> {
    let (mount, dir) = find_mount(mounts, req.path())?;
    if matches!(req.method(), "GET" | "HEAD") {
        return Some(resolve(mount, dir, req));
    }
    let rel = relative_path(mount, req.path())?;
    dir.open_file(&rel).ok()?;
    let allow = vec![("Allow", MOUNT_ALLOW.to_owned())];
    Some(match req.method() {
        "OPTIONS" => FileReply::new(204, allow),
        _ => error(405, allow),
    })
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

/// A file response, decided before any byte is written, so both the
/// HTTP/1 exchange and an HTTP/2 stream can send it in their framing.
#[derive(Debug)]
pub(crate) struct FileReply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    /// The `Content-Length` to announce (also for HEAD and 304, where no
    /// body follows).
    pub length: Option<u64>,
    pub body: FileBody,
}

#[derive(Debug)]
pub(crate) enum FileBody {
    /// No body (HEAD, 304).
    None,
    /// A small body, sent with the head.
    Inline(Vec<u8>),
    /// A larger body, read chunk by chunk as the connection drains.
    Stream(FileSend),
}

impl FileReply {
    fn new(status: u16, headers: Vec<(&'static str, String)>) -> Self {
        FileReply {
            status,
            headers,
            length: None,
            body: FileBody::None,
        }
    }

    /// The headers as borrowed pairs, for the writers.
    pub fn header_refs(&self) -> Vec<(&str, &str)> {
        self.headers.iter().map(|(n, v)| (*n, v.as_str())).collect()
    }
}

impl FileSend {
    /// Read the next chunk of at most `max` bytes; `None` once everything
    /// announced was read. A file that shrank under us is an error: the
    /// announced length can no longer be met.
    pub fn next_chunk(&mut self, max: usize) -> std::io::Result<Option<Vec<u8>>> {
        if self.remaining == 0 {
            return Ok(None);
        }
        let want = self.remaining.min(max as u64) as usize;
        let mut buf = vec![0u8; want];
        let n = self.file.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "file shrank while sending",
            ));
        }
        buf.truncate(n);
        self.remaining -= n as u64;
        Ok(Some(buf))
    }

    /// Bytes still to send.
    #[cfg(feature = "http2")]
    pub fn remaining(&self) -> u64 {
        self.remaining
    }
}

/// Decide the response to `req` from `mount`. Always produces one.
pub(crate) fn resolve(mount: &Mount, dir: &MountDir, req: &Request) -> FileReply {
    let path = req.path().to_owned();
    if path == mount.prefix.trim_end_matches('/') && !path.is_empty() {
        return redirect(&mount.prefix);
    }
    let Some(rel) = relative_path(mount, &path) else {
        return error(403, Vec::new());
    };
    let Ok(mut file) = dir.open_file(&rel) else {
        return error(404, Vec::new());
    };
    let Ok(mut meta) = file.metadata() else {
        return error(404, Vec::new());
    };
    let mut served_rel = rel.clone();
    if meta.is_dir() {
        if !path.ends_with('/') {
            return redirect(&format!("{path}/"));
        }
        served_rel = if rel.is_empty() {
            mount.index.clone()
        } else {
            format!("{rel}/{}", mount.index)
        };
        match dir
            .open_file(&served_rel)
            .and_then(|f| Ok((f.metadata()?, f)))
        {
            Ok((m, f)) if m.is_file() => (meta, file) = (m, f),
            _ => return error(404, Vec::new()),
        }
    }
    if !meta.is_file() {
        return error(404, Vec::new());
    }
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    file_reply(req, file, meta.len(), modified, &served_rel)
}

fn file_reply(
    req: &Request,
    mut file: File,
    len: u64,
    modified: SystemTime,
    name: &str,
) -> FileReply {
    let tag = range::etag(len, modified);
    let h = req.headers();
    let mut headers = vec![
        ("ETag", tag.clone()),
        ("Last-Modified", httpdate::fmt_http_date(modified)),
        ("Accept-Ranges", "bytes".to_owned()),
    ];
    if range::not_modified(
        h.get_str("if-none-match"),
        h.get_str("if-modified-since"),
        &tag,
        modified,
    ) {
        return FileReply::new(304, headers);
    }
    headers.push(("Content-Type", content_type(name)));
    let range_hdr = h
        .get_str("range")
        .filter(|_| range::if_range_matches(h.get_str("if-range"), &tag, modified));
    let (status, start, count) = match range::evaluate_range(range_hdr, len) {
        RangeOutcome::Full => (200, 0, len),
        RangeOutcome::Partial { start, end } => {
            headers.push(("Content-Range", format!("bytes {start}-{end}/{len}")));
            (206, start, end - start + 1)
        }
        RangeOutcome::Unsatisfiable => {
            return error(416, vec![("Content-Range", format!("bytes */{len}"))]);
        }
    };
    if start > 0 && file.seek(SeekFrom::Start(start)).is_err() {
        return error(500, Vec::new());
    }
    let mut reply = FileReply::new(status, headers);
    reply.length = Some(count);
    if req.is_head() {
        return reply;
    }
    if count > INLINE_MAX {
        reply.body = FileBody::Stream(FileSend {
            file,
            remaining: count,
        });
        return reply;
    }
    let mut body = Vec::with_capacity(count as usize);
    if file.take(count).read_to_end(&mut body).is_err() || body.len() as u64 != count {
        return error(500, Vec::new());
    }
    reply.body = FileBody::Inline(body);
    reply
}

/// Send `reply` on an HTTP/1 exchange.
pub(crate) fn send_h1(
    reply: FileReply,
    req: &Request,
    st: &mut ExState,
    conn: &mut ConnCx<'_>,
) -> Result<(), HttpError> {
    let headers = reply.header_refs();
    let body: &[u8] = match &reply.body {
        FileBody::Inline(b) => b,
        _ => &[],
    };
    st.write_head(req, conn, reply.status, &headers, reply.length, body)?;
    if let FileBody::Stream(send) = reply.body
        && !st.resp_done()
    {
        st.resp = RespState::File(send);
        conn.request_writable();
    }
    Ok(())
}

/// Send the next chunk of a streamed file; `true` when it is all sent.
pub(crate) fn pump(send: &mut FileSend, conn: &mut ConnCx<'_>) -> Result<bool, HttpError> {
    match send.next_chunk(CHUNK) {
        Ok(Some(chunk)) => conn.write(&chunk).map_err(HttpError::Write)?,
        Ok(None) => return Ok(true),
        Err(e) => {
            conn.close(lws_core::CloseReason::Protocol(e.to_string()));
            return Ok(true);
        }
    }
    Ok(send.remaining == 0)
}

fn content_type(name: &str) -> String {
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    match (mime.type_(), mime.get_param("charset")) {
        (mime_guess::mime::TEXT, None) => format!("{mime}; charset=utf-8"),
        _ => mime.to_string(),
    }
}

fn redirect(to: &str) -> FileReply {
    let mut r = FileReply::new(
        301,
        vec![
            ("Location", to.to_owned()),
            ("Content-Type", "text/plain".to_owned()),
        ],
    );
    r.length = Some(0);
    r
}

/// A short text error response.
pub(crate) fn error(status: u16, extra: Vec<(&'static str, String)>) -> FileReply {
    let body = format!("{status} {}\n", crate::parse::response::reason(status));
    let mut headers = vec![("Content-Type", "text/plain; charset=utf-8".to_owned())];
    headers.extend(extra);
    let mut r = FileReply::new(status, headers);
    r.length = Some(body.len() as u64);
    r.body = FileBody::Inline(body.into_bytes());
    r
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
