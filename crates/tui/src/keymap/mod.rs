//! The keymap: every key maps to a named action; defaults are embedded, the config's `[keymap]`
//! section overrides them, and the help screen and footer are generated from it.

mod key;
mod specs;

use std::collections::{BTreeMap, HashMap};

use crossterm::event::KeyEvent;

pub use key::Key;
use specs::SPECS;
pub use specs::{Action, Context};

/// An invalid `[keymap]` entry: the action it concerns and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct KeymapError {
    pub action: String,
    pub message: String,
    pub help: String,
}

/// Resolved bindings: key → action, and for help, action → keys.
#[derive(Debug, Clone)]
pub struct Keymap {
    by_key: HashMap<Key, Action>,
    keys: BTreeMap<Action, Vec<Key>>,
}

/// Help for one action, as the help screen and footer list it.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub action: Action,
    pub name: &'static str,
    pub keys: Vec<Key>,
    pub help: &'static str,
    pub context: &'static [Context],
}

impl Keymap {
    /// The defaults with the user's overrides (`action name → keys`) applied. A user binding wins
    /// over a default on the same key; two user bindings on one key are refused.
    pub fn new(overrides: &BTreeMap<String, Vec<String>>) -> Result<Keymap, KeymapError> {
        let mut user: BTreeMap<Action, Vec<Key>> = BTreeMap::new();
        let mut user_keys: HashMap<Key, &str> = HashMap::new();
        for (name, keys) in overrides {
            let Some(spec) = SPECS.iter().find(|s| s.name == name.as_str()) else {
                let near = crate::config::closest(name, SPECS.iter().map(|s| s.name.as_ref()))
                    .map(|n| format!("did you mean {n:?}? "))
                    .unwrap_or_default();
                return Err(KeymapError {
                    action: name.clone(),
                    message: format!("unknown action {name:?}"),
                    help: format!(
                        "{near}actions: {}",
                        SPECS.iter().map(|s| s.name.as_ref()).collect::<Vec<_>>().join(", ")
                    ),
                });
            };
            let mut parsed = Vec::new();
            for k in keys {
                let key = Key::parse(k).map_err(|m| KeymapError {
                    action: name.clone(),
                    message: m,
                    help: "e.g. quit = [\"q\", \"ctrl-c\"]".into(),
                })?;
                if let Some(other) = user_keys.insert(key, spec.name.as_ref()).filter(|o| *o != spec.name) {
                    return Err(KeymapError {
                        action: name.clone(),
                        message: format!("key {key} is bound to both {other:?} and {name:?}"),
                        help: "give each key one action".into(),
                    });
                }
                parsed.push(key);
            }
            user.insert(spec.action, parsed);
        }
        let mut keys: BTreeMap<Action, Vec<Key>> = BTreeMap::new();
        for s in SPECS.iter() {
            let ks = match user.get(&s.action) {
                Some(k) => k.clone(),
                None => s
                    .keys
                    .iter()
                    .filter_map(|k| Key::parse(k).ok())
                    .filter(|k| !user_keys.contains_key(k))
                    .collect(),
            };
            keys.insert(s.action, ks);
        }
        let by_key = keys
            .iter()
            .flat_map(|(a, ks)| ks.iter().map(move |k| (*k, *a)))
            .collect();
        Ok(Keymap { by_key, keys })
    }

    pub fn default_map() -> Keymap {
        match Self::new(&BTreeMap::new()) {
            Ok(k) => k,
            Err(e) => unreachable!("the default keymap is valid: {e:?}"),
        }
    }

    pub fn action(&self, k: &KeyEvent) -> Option<Action> {
        self.by_key.get(&Key::from_event(k)).copied()
    }

    /// Every action with its keys, in the order of the help screen.
    pub fn bindings(&self) -> Vec<Binding> {
        SPECS
            .iter()
            .map(|s| Binding {
                action: s.action,
                name: s.name.as_ref(),
                keys: self.keys.get(&s.action).cloned().unwrap_or_default(),
                help: s.help.as_ref(),
                context: s.context,
            })
            .collect()
    }

    /// The first key of `action`, for footers ("p pause").
    pub fn key_of(&self, action: Action) -> Option<Key> {
        self.keys.get(&action).and_then(|k| k.first().copied())
    }
}
