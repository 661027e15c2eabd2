//! The built-in catalog of real storage classes (`config/catalog.toml`): a tier's `class` fills the
//! prices and minimums the tier leaves out.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::tier::TierConfig;

/// The catalog as shipped, also its reference (region, date, source).
pub const CATALOG_TOML: &str = include_str!("../../../config/catalog.toml");

/// Fields of a class that describe it rather than fill a tier (its `storage_class` fills the
/// tier's: an S3 tier of class `aws:s3-standard-ia` writes `STANDARD_IA` objects).
const DESCRIPTIVE: [&str; 2] = ["name", "description"];

/// One storage class of one provider, as listed by `dim catalog`: what it is, and the tier it
/// makes. Its prices and minimums are the tier's own fields, declared once in `TierConfig`:
/// every class is read into one (a key the tier does not have is refused), so the catalog and
/// the tiers it fills cannot drift apart.
#[derive(Debug, Clone, Serialize)]
pub struct StorageClass {
    pub description: String,
    /// Named as the class (`aws:s3-standard-ia`), on the S3 backend.
    #[serde(flatten)]
    pub tier: TierConfig,
}

impl StorageClass {
    pub fn name(&self) -> &str {
        &self.tier.name
    }

    /// A class's table read as a tier (its name as the tier's, on the S3 backend).
    fn read(table: &toml::Table) -> Result<Self, toml::de::Error> {
        let mut fields = table.clone();
        let description = match fields.remove("description") {
            Some(toml::Value::String(d)) => d,
            _ => String::new(),
        };
        fields
            .entry("backend")
            .or_insert_with(|| toml::Value::String("s3".into()));
        Ok(Self {
            description,
            tier: toml::Value::Table(fields).try_into()?,
        })
    }
}

#[derive(Deserialize)]
struct File {
    class: Vec<toml::Table>,
}

/// Each class's fields as TOML (what fills a tier), parsed once.
fn tables() -> &'static [toml::Table] {
    static TABLES: OnceLock<Vec<toml::Table>> = OnceLock::new();
    TABLES.get_or_init(|| {
        // The shipped catalog is checked by a test; a broken one is a build defect, not user input.
        toml::from_str::<File>(CATALOG_TOML).map_or_else(|_| Vec::new(), |f| f.class)
    })
}

/// Every class in the catalog, in file order.
pub fn classes() -> Vec<StorageClass> {
    tables().iter().filter_map(|t| StorageClass::read(t).ok()).collect()
}

fn name_of(t: &toml::Table) -> &str {
    t.get("name").and_then(toml::Value::as_str).unwrap_or("")
}

/// An unknown class name, with the closest known one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownClass {
    pub name: String,
    pub closest: Option<String>,
}

/// Fills the tier table `tier` from its `class` (fields the tier sets win). A tier without a
/// class is left as it is.
pub fn fill(tier: &mut toml::Table) -> Result<(), UnknownClass> {
    let Some(class) = tier.get("class").and_then(toml::Value::as_str).map(str::to_string) else {
        return Ok(());
    };
    let Some(entry) = tables().iter().find(|t| name_of(t) == class) else {
        return Err(UnknownClass {
            closest: super::closest(&class, tables().iter().map(name_of)).map(str::to_string),
            name: class,
        });
    };
    for (k, v) in entry {
        if !DESCRIPTIVE.contains(&k.as_str()) && !tier.contains_key(k) {
            tier.insert(k.clone(), v.clone());
        }
    }
    Ok(())
}

/// The catalog's class names, for help texts.
pub(crate) fn names() -> Vec<&'static str> {
    tables().iter().map(name_of).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalog_parses_and_names_every_class_the_issue_lists() {
        let all = classes();
        for t in tables() {
            if let Err(e) = StorageClass::read(t) {
                panic!("{} is not a tier: {e}", name_of(t));
            }
        }
        assert_eq!(all.len(), tables().len(), "every class deserialises");
        for want in [
            "aws:s3-standard",
            "aws:s3-standard-ia",
            "aws:s3-one-zone-ia",
            "aws:s3-glacier-instant-retrieval",
            "aws:s3-glacier-flexible-retrieval",
            "aws:s3-glacier-deep-archive",
            "azure:blob-hot",
            "azure:blob-cool",
            "azure:blob-cold",
            "azure:blob-archive",
            "gcp:gcs-standard",
            "gcp:gcs-nearline",
            "gcp:gcs-coldline",
            "gcp:gcs-archive",
        ] {
            assert!(all.iter().any(|c| c.name() == want), "{want} missing");
        }
        let ia = &all.iter().find(|c| c.name() == "aws:s3-standard-ia").unwrap().tier;
        assert_eq!((ia.min_storage_days, ia.min_billable_bytes), (30.0, 131_072));
        assert_eq!(ia.storage_class.as_deref(), Some("STANDARD_IA"));
    }

    #[test]
    fn a_tier_keeps_what_it_sets_and_unknown_classes_get_the_closest_name() {
        let mut t: toml::Table = toml::from_str("class = \"aws:s3-standard-ia\"\nstorage_gb_month = 0.5").unwrap();
        fill(&mut t).unwrap();
        assert_eq!(t["storage_gb_month"].as_float(), Some(0.5));
        assert_eq!(t["min_storage_days"].as_integer(), Some(30));
        assert!(!t.contains_key("description"));
        assert_eq!(
            t["storage_class"].as_str(),
            Some("STANDARD_IA"),
            "the S3 class follows from the catalog"
        );
        let mut bad: toml::Table = toml::from_str("class = \"aws:s3-standrd-ia\"").unwrap();
        let e = fill(&mut bad).unwrap_err();
        assert_eq!(e.closest.as_deref(), Some("aws:s3-standard-ia"));
    }
}
