//! A tier a test tampers with: `Hooked` hands every operation to the real tier, except the ones
//! its `Hooks` take over, so a test writes only what it changes (a write during a copy, bit rot,
//! a refusal, a listing that dies).

use std::sync::Arc;

use async_trait::async_trait;
use data_in_motion::engine::tiers::{Attributes, Listing, ObjectMeta, ObjectStore, OpError, Reader, Version, Written};

/// What a test does instead of (or around) the real tier's operation; each defaults to the real
/// one. Only these can be taken over: they are what the migrator and the scanner call.
#[async_trait]
pub trait Hooks: Send + Sync + std::fmt::Debug {
    async fn head(&self, inner: &dyn ObjectStore, key: &str) -> Result<Option<ObjectMeta>, OpError> {
        inner.head(key).await
    }
    async fn get(
        &self,
        inner: &dyn ObjectStore,
        key: &str,
        from: Option<Version<'_>>,
    ) -> Result<(ObjectMeta, Reader), OpError> {
        inner.get(key, from).await
    }
    async fn put(
        &self,
        inner: &dyn ObjectStore,
        key: &str,
        body: Reader,
        size: u64,
        attrs: &Attributes,
    ) -> Result<Written, OpError> {
        inner.put(key, body, size, attrs).await
    }
    async fn list_pages(
        &self,
        inner: &dyn ObjectStore,
        prefix: &str,
        start_after: Option<&str>,
        on_page: &mut (dyn FnMut(Listing) + Send),
    ) -> Result<(), OpError> {
        inner.list_pages(prefix, start_after, on_page).await
    }
}

/// The real tier `inner` with `hooks` in front of it. The trait's provided operations (server-side
/// copy, restore, …) keep their defaults, so a copy from a hooked tier streams through `get`.
#[derive(Debug)]
pub struct Hooked<H> {
    pub inner: Arc<dyn ObjectStore>,
    pub hooks: H,
}

impl<H: Hooks> Hooked<H> {
    pub fn new(inner: Arc<dyn ObjectStore>, hooks: H) -> Arc<Self> {
        Arc::new(Self { inner, hooks })
    }
}

#[async_trait]
impl<H: Hooks> ObjectStore for Hooked<H> {
    fn tier(&self) -> &str {
        self.inner.tier()
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, OpError> {
        self.hooks.head(&*self.inner, key).await
    }
    async fn attributes(&self, key: &str, version: Option<&str>) -> Result<Attributes, OpError> {
        self.inner.attributes(key, version).await
    }
    async fn get(&self, key: &str, from: Option<Version<'_>>) -> Result<(ObjectMeta, Reader), OpError> {
        self.hooks.get(&*self.inner, key, from).await
    }
    async fn put(&self, key: &str, body: Reader, size: u64, attrs: &Attributes) -> Result<Written, OpError> {
        self.hooks.put(&*self.inner, key, body, size, attrs).await
    }
    async fn difference(&self, key: &str, expected: &Written) -> Result<Option<&'static str>, OpError> {
        self.inner.difference(key, expected).await
    }
    async fn delete(&self, key: &str, version: Option<&str>) -> Result<(), OpError> {
        self.inner.delete(key, version).await
    }
    async fn list_pages(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        on_page: &mut (dyn FnMut(Listing) + Send),
    ) -> Result<(), OpError> {
        self.hooks.list_pages(&*self.inner, prefix, start_after, on_page).await
    }
}
