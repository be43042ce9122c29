//! The site (wasm, JS, CSS, public files and their precompressed `.br`/`.gz`) carried inside the
//! release executable, so one file serves everything from any working directory.
//!
//! `make dist` appends an archive to the stripped executable (`--embed-site`); at start the
//! server reads it back from its own file. The archive is a list of entries
//! (`u32` path length, path, `u64` data length, data, little-endian), followed by a trailer of
//! the archive's length (`u64`) and [`MAGIC`]. An executable without the trailer serves the
//! site from `--site-root` on disk instead, as `make run` does.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;

/// Ends every executable that carries a site.
pub const MAGIC: &[u8; 8] = b"RMSITE01";

/// Largest archive read back: the site is ~2 MiB; this only bounds a corrupt trailer.
const MAX_ARCHIVE_BYTES: u64 = 256 << 20;

/// One file, with the precompressed variants `scripts/shrink-site.mjs` wrote next to it.
#[derive(Debug)]
struct Asset {
    body: Bytes,
    br: Option<Bytes>,
    gz: Option<Bytes>,
    /// Weak, so one tag covers every encoding of the same content.
    etag: HeaderValue,
    content_type: &'static str,
}

/// Every file of the site, by path without the leading `/`.
#[derive(Debug)]
pub struct Site {
    assets: HashMap<String, Asset>,
}

impl Site {
    /// Reads the site appended to the running executable, if there is one.
    ///
    /// # Errors
    /// I/O errors reading the executable, or an archive that is cut short.
    pub fn from_current_exe() -> io::Result<Option<Site>> {
        let exe = std::env::current_exe()?;
        let Some(entries) = read_archive(&exe)? else {
            return Ok(None);
        };
        Ok(Some(Site::from_entries(entries)))
    }

    fn from_entries(entries: Entries) -> Site {
        let mut files: HashMap<String, Vec<u8>> = entries.into_iter().collect();
        let names: Vec<String> = files.keys().cloned().collect();
        let mut assets = HashMap::new();
        for name in names {
            let is_variant = [".br", ".gz"].iter().any(|ext| {
                name.strip_suffix(ext)
                    .is_some_and(|base| files.contains_key(base))
            });
            if is_variant {
                continue;
            }
            let Some(body) = files.get(&name).cloned() else {
                continue;
            };
            let br = files.remove(&format!("{name}.br")).map(Bytes::from);
            let gz = files.remove(&format!("{name}.gz")).map(Bytes::from);
            let etag = HeaderValue::from_str(&format!("W/\"{:016x}\"", fnv1a(&body)))
                .unwrap_or_else(|_| HeaderValue::from_static("W/\"0\""));
            let asset = Asset {
                content_type: content_type(&name),
                body: Bytes::from(body),
                br,
                gz,
                etag,
            };
            assets.insert(name, asset);
        }
        Site { assets }
    }

    /// How many files the site has.
    pub fn len(&self) -> usize {
        self.assets.len()
    }

    /// Whether the site has no files.
    pub fn is_empty(&self) -> bool {
        self.assets.is_empty()
    }

    /// The response for `path`, or `None` when it is not a file of the site: 304 when the
    /// browser's copy is current, else the best encoding it accepts.
    pub fn respond(&self, method: &Method, path: &str, headers: &HeaderMap) -> Option<Response> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        let asset = self.assets.get(path.trim_start_matches('/'))?;
        let builder = Response::builder()
            .header(header::ETAG, asset.etag.clone())
            .header(header::VARY, "accept-encoding");
        let fresh = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|tags| {
                tags.split(',')
                    .any(|t| t.trim().trim_start_matches("W/") == etag_opaque(&asset.etag))
            });
        if fresh {
            return builder
                .status(StatusCode::NOT_MODIFIED)
                .body(Body::empty())
                .ok();
        }
        let accepts = |coding: &str| {
            headers
                .get(header::ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| {
                    v.split(',')
                        .any(|c| c.split(';').next().is_some_and(|c| c.trim() == coding))
                })
        };
        let (body, encoding) = match (&asset.br, &asset.gz) {
            (Some(br), _) if accepts("br") => (br.clone(), Some("br")),
            (_, Some(gz)) if accepts("gzip") => (gz.clone(), Some("gzip")),
            _ => (asset.body.clone(), None),
        };
        let mut builder = builder
            .header(header::CONTENT_TYPE, asset.content_type)
            .header(header::CONTENT_LENGTH, body.len());
        if let Some(encoding) = encoding {
            builder = builder.header(header::CONTENT_ENCODING, encoding);
        }
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(body)
        };
        builder.body(body).ok()
    }
}

/// The quoted part of an ETag, without `W/`.
fn etag_opaque(tag: &HeaderValue) -> &str {
    tag.to_str().unwrap_or("").trim_start_matches("W/")
}

/// FNV-1a: a stable content hash for ETags (not for security).
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "json" | "webmanifest" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// The files of an archive: path and contents, in archive order.
type Entries = Vec<(String, Vec<u8>)>;

/// Reads the archive at the end of `exe`, if it has one.
fn read_archive(exe: &Path) -> io::Result<Option<Entries>> {
    let mut file = fs::File::open(exe)?;
    let size = file.metadata()?.len();
    if size < 16 {
        return Ok(None);
    }
    file.seek(SeekFrom::End(-16))?;
    let mut trailer = [0u8; 16];
    file.read_exact(&mut trailer)?;
    if &trailer[8..] != MAGIC {
        return Ok(None);
    }
    let len = u64::from_le_bytes(trailer[..8].try_into().unwrap_or_default());
    if len > MAX_ARCHIVE_BYTES || len > size - 16 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "site archive length",
        ));
    }
    file.seek(SeekFrom::Start(size - 16 - len))?;
    let mut archive = vec![0; usize::try_from(len).unwrap_or(0)];
    file.read_exact(&mut archive)?;
    parse(&archive).map(Some)
}

/// Splits an archive into its entries.
fn parse(mut rest: &[u8]) -> io::Result<Entries> {
    let mut entries = Vec::new();
    while !rest.is_empty() {
        let n = u32::from_le_bytes(array(take(&mut rest, 4)?)?);
        let name = String::from_utf8(take(&mut rest, n as usize)?.to_vec()).map_err(|_| short())?;
        let n = u64::from_le_bytes(array(take(&mut rest, 8)?)?);
        let data = take(&mut rest, usize::try_from(n).map_err(|_| short())?)?;
        entries.push((name, data.to_vec()));
    }
    Ok(entries)
}

fn short() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "site archive cut short")
}

/// The next `n` bytes of `rest`, which moves past them.
fn take<'a>(rest: &mut &'a [u8], n: usize) -> io::Result<&'a [u8]> {
    if rest.len() < n {
        return Err(short());
    }
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Ok(head)
}

fn array<const N: usize>(bytes: &[u8]) -> io::Result<[u8; N]> {
    bytes.try_into().map_err(|_| short())
}

/// Writes `exe` followed by every file under `site` as an archive to `out` (mode 0755), and
/// returns the number of files.
///
/// # Errors
/// I/O errors reading the site or writing `out`.
pub fn pack(site: &Path, exe: &Path, out: &Path) -> io::Result<usize> {
    let mut files = Vec::new();
    collect(site, site, &mut files)?;
    files.sort();
    let mut archive = Vec::new();
    for (name, path) in &files {
        let data = fs::read(path)?;
        let name_len = u32::try_from(name.len()).map_err(io::Error::other)?;
        archive.extend_from_slice(&name_len.to_le_bytes());
        archive.extend_from_slice(name.as_bytes());
        archive.extend_from_slice(&(data.len() as u64).to_le_bytes());
        archive.extend_from_slice(&data);
    }
    let mut output = fs::File::create(out)?;
    output.write_all(&fs::read(exe)?)?;
    output.write_all(&archive)?;
    output.write_all(&(archive.len() as u64).to_le_bytes())?;
    output.write_all(MAGIC)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        output.set_permissions(fs::Permissions::from_mode(0o755))?;
    }
    Ok(files.len())
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, files)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            let name = rel.to_string_lossy().replace('\\', "/");
            files.push((name, path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_site_reads_back_with_variants_etags_and_304() {
        let dir = std::env::temp_dir().join(format!("embed-test-{}", std::process::id()));
        let site = dir.join("site");
        fs::create_dir_all(site.join("pkg")).unwrap();
        fs::write(site.join("pkg/app.js"), "console.log(1)").unwrap();
        fs::write(site.join("pkg/app.js.br"), "BR").unwrap();
        fs::write(site.join("favicon.ico"), [0u8, 1, 2]).unwrap();
        fs::write(dir.join("exe"), b"\x7fELF pretend").unwrap();
        assert_eq!(pack(&site, &dir.join("exe"), &dir.join("out")).unwrap(), 3);
        assert_eq!(read_archive(&dir.join("exe")).unwrap(), None);
        let site = Site::from_entries(read_archive(&dir.join("out")).unwrap().unwrap());
        assert_eq!(site.len(), 2);

        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, br"),
        );
        let r = site.respond(&Method::GET, "/pkg/app.js", &headers).unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "br");
        assert!(r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript"));
        let etag = r.headers()[header::ETAG].clone();
        headers.insert(header::IF_NONE_MATCH, etag);
        let r = site.respond(&Method::GET, "/pkg/app.js", &headers).unwrap();
        assert_eq!(r.status(), 304);
        let r = site
            .respond(&Method::GET, "/favicon.ico", &HeaderMap::new())
            .unwrap();
        assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
        assert!(site
            .respond(&Method::GET, "/nope", &HeaderMap::new())
            .is_none());
        assert!(site
            .respond(&Method::POST, "/favicon.ico", &HeaderMap::new())
            .is_none());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_truncated_archive_is_an_error_not_a_panic() {
        let mut archive = Vec::new();
        archive.extend_from_slice(&5u32.to_le_bytes());
        archive.extend_from_slice(b"ab");
        assert!(parse(&archive).is_err());
    }
}
