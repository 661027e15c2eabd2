//! S3 Inventory reports (CSV, plain or gzipped): every object of the bucket with its size,
//! last-modified time and storage class, so objects the access log never mentions are still
//! stored, priced and placed in a replay. The columns are those of the report's `fileSchema`
//! (from a header row, the `manifest.json` beside the file, or `--inventory-schema`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::s3_log::decode_key;
use super::trace::{self, BadLine};
use crate::engine::clock::Millis;

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("cannot read the inventory {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "the inventory {path} does not say its columns: give --inventory-schema with the fileSchema of its manifest.json (e.g. \"Bucket, Key, Size, LastModifiedDate, StorageClass\"), put that manifest.json beside it, or add a header row"
    )]
    NoSchema { path: PathBuf },
    #[error("the inventory schema {schema:?} has no {missing} column (it needs Key and Size)")]
    Incomplete { schema: String, missing: &'static str },
    #[error("cannot read {path}: {why}")]
    Manifest { path: PathBuf, why: String },
}

/// One object (or noncurrent version) the inventory lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub key: String,
    pub size: u64,
    /// Epoch ms, when the report gives it.
    pub last_modified_ms: Option<Millis>,
    pub class: String,
}

/// Where the columns are, from the report's `fileSchema`.
#[derive(Debug, Clone)]
struct Columns {
    key: usize,
    size: usize,
    version: Option<usize>,
    latest: Option<usize>,
    delete_marker: Option<usize>,
    modified: Option<usize>,
    class: Option<usize>,
    count: usize,
}

impl Columns {
    fn parse(schema: &str) -> Result<Columns, InventoryError> {
        let names: Vec<String> = schema.split(',').map(|n| n.trim().to_ascii_lowercase()).collect();
        let at = |n: &str| names.iter().position(|x| x == n);
        let need = |n: &'static str| {
            at(&n.to_ascii_lowercase()).ok_or(InventoryError::Incomplete {
                schema: schema.to_string(),
                missing: n,
            })
        };
        Ok(Columns {
            key: need("Key")?,
            size: need("Size")?,
            version: at("versionid"),
            latest: at("islatest"),
            delete_marker: at("isdeletemarker"),
            modified: at("lastmodifieddate"),
            class: at("storageclass"),
            count: names.len(),
        })
    }
}

/// The objects of one or more inventory files.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub objects: Vec<Listed>,
    pub rows: usize,
    pub bad: usize,
    pub first_bad: Vec<BadLine>,
    /// Delete markers: listed, but nothing is stored.
    pub delete_markers: usize,
}

/// Objects and bytes of one storage class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ClassTotal {
    pub objects: usize,
    pub bytes: u64,
}

impl Inventory {
    /// Objects and bytes by storage class, as the report lists them.
    pub fn by_class(&self) -> BTreeMap<String, ClassTotal> {
        let mut m: BTreeMap<String, ClassTotal> = BTreeMap::new();
        for o in &self.objects {
            let c = m.entry(o.class.clone()).or_default();
            c.objects += 1;
            c.bytes += o.size;
        }
        m
    }
}

/// The `fileSchema` of the `manifest.json` beside `path`, if there is one.
fn manifest_schema(path: &Path) -> Result<Option<String>, InventoryError> {
    let m = path.with_file_name("manifest.json");
    let Ok(text) = std::fs::read_to_string(&m) else {
        return Ok(None);
    };
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| InventoryError::Manifest {
        path: m.clone(),
        why: e.to_string(),
    })?;
    match v.get("fileSchema").and_then(|s| s.as_str()) {
        Some(s) => Ok(Some(s.to_string())),
        None => Err(InventoryError::Manifest {
            path: m,
            why: "no fileSchema (is it an inventory manifest?)".into(),
        }),
    }
}

/// Reads inventory files into one list; `schema` overrides what the files say of their columns.
pub fn read(paths: &[PathBuf], schema: Option<&str>) -> Result<Inventory, InventoryError> {
    let mut inv = Inventory::default();
    for path in paths {
        read_one(path, schema, &mut inv)?;
    }
    Ok(inv)
}

fn read_one(path: &Path, schema: Option<&str>, inv: &mut Inventory) -> Result<(), InventoryError> {
    let io = |source| InventoryError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(trace::open(path).map_err(io)?);
    let mut cols = match schema {
        Some(s) => Some(Columns::parse(s)?),
        None => manifest_schema(path)?.map(|s| Columns::parse(&s)).transpose()?,
    };
    for (i, rec) in r.records().enumerate() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) if e.is_io_error() => return Err(io(std::io::Error::other(e.to_string()))),
            Err(e) => {
                reject(inv, i + 1, e.to_string(), "");
                continue;
            }
        };
        let line = rec.position().map_or(i + 1, |p| p.line() as usize);
        if i == 0 && rec.iter().any(|f| f.eq_ignore_ascii_case("key")) {
            cols = Some(Columns::parse(&rec.iter().collect::<Vec<_>>().join(","))?);
            continue;
        }
        let Some(c) = &cols else {
            return Err(InventoryError::NoSchema {
                path: path.to_path_buf(),
            });
        };
        inv.rows += 1;
        let text = rec.iter().collect::<Vec<_>>().join(",");
        match row(c, &rec) {
            Ok(Some(o)) => inv.objects.push(o),
            Ok(None) => inv.delete_markers += 1,
            Err(why) => reject(inv, line, why, &text),
        }
    }
    Ok(())
}

fn reject(inv: &mut Inventory, line: usize, reason: String, text: &str) {
    BadLine::keep(&mut inv.first_bad, &mut inv.bad, line, reason, text);
}

/// One row: the object it lists, or None for a delete marker.
fn row(c: &Columns, rec: &csv::StringRecord) -> Result<Option<Listed>, String> {
    if rec.len() != c.count {
        return Err(format!("{} fields, the schema names {}", rec.len(), c.count));
    }
    let flag = |i: Option<usize>| i.is_some_and(|i| rec[i].eq_ignore_ascii_case("true"));
    if flag(c.delete_marker) {
        return Ok(None);
    }
    // Inventories encode keys as a form does: a space is `+`, a plus `%2B`.
    let mut key = decode_key(&rec[c.key].replace('+', "%20"))?;
    if key.is_empty() {
        return Err("empty key".into());
    }
    // A noncurrent version is stored and billed like an object of its own, never read by key.
    if c.latest.is_some_and(|i| rec[i].eq_ignore_ascii_case("false")) {
        let v = c.version.map_or("", |i| &rec[i]);
        key = format!("{key} (noncurrent version {v})");
    }
    let size = rec[c.size]
        .parse::<u64>()
        .map_err(|_| format!("size {:?} is not a number", &rec[c.size]))?;
    let last_modified_ms = match c.modified.map(|i| &rec[i]) {
        None | Some("") => None,
        Some(s) => Some(
            OffsetDateTime::parse(s, &Rfc3339)
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as Millis)
                .map_err(|e| format!("last-modified {s:?}: {e}"))?,
        ),
    };
    let class = c.class.map_or("STANDARD", |i| &rec[i]);
    Ok(Some(Listed {
        key,
        size,
        last_modified_ms,
        class: if class.is_empty() { "STANDARD" } else { class }.to_string(),
    }))
}
