//! Which source file uses which, read from the library's syntax (syn): every `use` and every path
//! that starts at `crate`, `super`, `self` or a module brought in by a `use`, resolved through
//! re-exports to the file that defines the item. A `mod` declaration and a `pub use` re-export are
//! structure, not use: a facade that re-exports its children does not depend on them.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

type ModId = usize;

/// One `use` binding: the name it brings in, the absolute path it names, whether it re-exports.
struct Binding {
    name: String,
    target: Vec<String>,
    glob: bool,
    reexport: bool,
}

struct Module {
    file: usize,
    parent: Option<ModId>,
    path: Vec<String>,
    children: HashMap<String, ModId>,
    items: BTreeSet<String>,
    bindings: Vec<Binding>,
}

/// What a path names: a module, or an item defined in a file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Module(ModId),
    Item(usize),
}

pub struct Crate {
    pub files: Vec<PathBuf>,
    modules: Vec<Module>,
    /// Per file, the syntax of the items it holds (inline modules are walked through these).
    asts: Vec<syn::File>,
}

impl Crate {
    pub fn load(src: &Path) -> Crate {
        let mut krate = Crate {
            files: Vec::new(),
            modules: Vec::new(),
            asts: Vec::new(),
        };
        krate.load_file(&src.join("lib.rs"), None, Vec::new(), src.to_path_buf());
        krate
    }

    fn load_file(&mut self, path: &Path, parent: Option<ModId>, mpath: Vec<String>, dir: PathBuf) -> ModId {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file = self.files.len();
        self.files.push(path.to_path_buf());
        let items = ast.items.clone();
        self.asts.push(ast);
        self.load_items(&items, file, parent, mpath, dir)
    }

    fn load_items(
        &mut self,
        items: &[syn::Item],
        file: usize,
        parent: Option<ModId>,
        mpath: Vec<String>,
        dir: PathBuf,
    ) -> ModId {
        let id = self.modules.len();
        self.modules.push(Module {
            file,
            parent,
            path: mpath.clone(),
            children: HashMap::new(),
            items: BTreeSet::new(),
            bindings: Vec::new(),
        });
        for item in items {
            match item {
                syn::Item::Mod(m) => {
                    let name = m.ident.to_string();
                    let mut child_path = mpath.clone();
                    child_path.push(name.clone());
                    let child = match &m.content {
                        Some((_, inner)) => self.load_items(inner, file, Some(id), child_path, dir.join(&name)),
                        None => {
                            let flat = dir.join(format!("{name}.rs"));
                            let (path, child_dir) = if flat.exists() {
                                (flat, dir.join(&name))
                            } else {
                                (dir.join(&name).join("mod.rs"), dir.join(&name))
                            };
                            self.load_file(&path, Some(id), child_path, child_dir)
                        }
                    };
                    self.modules[id].children.insert(name, child);
                }
                syn::Item::Use(u) => {
                    let reexport = !matches!(u.vis, syn::Visibility::Inherited);
                    let mut out = Vec::new();
                    flatten(&u.tree, Vec::new(), &mut out);
                    for (segments, name, glob) in out {
                        if let Some(target) = self.absolute(id, &segments) {
                            self.modules[id].bindings.push(Binding {
                                name,
                                target,
                                glob,
                                reexport,
                            });
                        }
                    }
                }
                other => {
                    if let Some(name) = item_name(other) {
                        self.modules[id].items.insert(name);
                    }
                }
            }
        }
        id
    }

    /// A path as written in module `m`, made absolute; `None` for another crate's path.
    fn absolute(&self, m: ModId, segments: &[String]) -> Option<Vec<String>> {
        let first = segments.first()?;
        let mut base = match first.as_str() {
            "crate" => Vec::new(),
            "self" => self.modules[m].path.clone(),
            "super" => {
                let mut at = m;
                let mut rest = segments;
                while rest.first().is_some_and(|s| s == "super") {
                    at = self.modules[at].parent?;
                    rest = &rest[1..];
                }
                let mut p = self.modules[at].path.clone();
                p.extend(rest.iter().cloned());
                return Some(p);
            }
            _ if self.modules[m].children.contains_key(first) || self.modules[m].items.contains(first) => {
                let mut p = self.modules[m].path.clone();
                p.push(first.clone());
                p.extend(segments[1..].iter().cloned());
                return Some(p);
            }
            _ => return None,
        };
        base.extend(segments[1..].iter().cloned());
        Some(base)
    }

    /// What an absolute path names, following `use` bindings; `None` when it leaves the crate.
    fn resolve(&self, path: &[String], depth: usize) -> Option<Target> {
        if depth > 32 {
            return None;
        }
        let mut m: ModId = 0;
        for (i, seg) in path.iter().enumerate() {
            let module = &self.modules[m];
            if let Some(&child) = module.children.get(seg) {
                m = child;
                continue;
            }
            if module.items.contains(seg) {
                return Some(Target::Item(module.file));
            }
            let rest = &path[i + 1..];
            for b in module.bindings.iter().filter(|b| !b.glob && &b.name == seg) {
                let mut p = b.target.clone();
                p.extend(rest.iter().cloned());
                if let Some(t) = self.resolve(&p, depth + 1) {
                    return Some(t);
                }
            }
            for b in module.bindings.iter().filter(|b| b.glob) {
                let mut p = b.target.clone();
                p.extend(path[i..].iter().cloned());
                if let Some(t) = self.resolve(&p, depth + 1) {
                    return Some(t);
                }
            }
            return None;
        }
        Some(Target::Module(m))
    }

    fn target_file(&self, t: Target) -> usize {
        match t {
            Target::Module(m) => self.modules[m].file,
            Target::Item(f) => f,
        }
    }

    /// Every file-to-file use: (user, used), self-uses left out.
    pub fn edges(&self) -> BTreeSet<(usize, usize)> {
        let mut edges = BTreeSet::new();
        for (id, module) in self.modules.iter().enumerate() {
            // Private `use`s are the module's own uses; what it merely re-exports is structure.
            for b in module.bindings.iter().filter(|b| !b.reexport && !b.glob) {
                if let Some(Target::Item(f)) = self.resolve(&b.target, 0) {
                    edges.insert((module.file, f));
                }
            }
            let items = self.items_of(id);
            let mut paths = PathCollector::default();
            for item in items
                .iter()
                .filter(|i| !matches!(i, syn::Item::Mod(_) | syn::Item::Use(_)))
            {
                paths.visit_item(item);
            }
            for segments in paths.paths {
                let Some(first) = segments.first() else { continue };
                let absolute = match module.bindings.iter().find(|b| !b.glob && &b.name == first) {
                    Some(b) => {
                        let mut p = b.target.clone();
                        p.extend(segments[1..].iter().cloned());
                        Some(p)
                    }
                    // `crate::…`, `super::…`, and a child module's or an own item's path
                    // (`parse::load(…)` beside `mod parse;`): all lead to a file of ours.
                    None if matches!(first.as_str(), "crate" | "self" | "super")
                        || module.children.contains_key(first)
                        || module.items.contains(first) =>
                    {
                        self.absolute(id, &segments)
                    }
                    None => None,
                };
                if let Some(t) = absolute.and_then(|p| self.resolve(&p, 0)) {
                    edges.insert((module.file, self.target_file(t)));
                }
            }
        }
        edges.retain(|(a, b)| a != b);
        edges
    }

    /// The syntax items of module `id` (a whole file, or an inline module's body).
    fn items_of(&self, id: ModId) -> Vec<syn::Item> {
        let module = &self.modules[id];
        let file_root = (0..=id).find(|&m| self.modules[m].file == module.file).unwrap_or(id);
        let mut items = self.asts[module.file].items.clone();
        // Walk down from the file's own module to the inline module `id`.
        for name in &module.path[self.modules[file_root].path.len()..] {
            let inner = items.iter().find_map(|i| match i {
                syn::Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, c)| c.clone()),
                _ => None,
            });
            items = inner.unwrap_or_default();
        }
        items
    }

    /// Files in import cycles: each strongly connected component of more than one file.
    pub fn cycles(&self, within: impl Fn(&Path) -> bool) -> Vec<Vec<PathBuf>> {
        let keep: Vec<bool> = self.files.iter().map(|f| within(f)).collect();
        let mut adj = vec![Vec::new(); self.files.len()];
        for (a, b) in self.edges() {
            if keep[a] && keep[b] {
                adj[a].push(b);
            }
        }
        strongly_connected(&adj)
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|c| c.into_iter().map(|f| self.files[f].clone()).collect())
            .collect()
    }

    /// Who uses whom inside one cycle, for the failure message.
    pub fn edges_among(&self, files: &[PathBuf]) -> Vec<(PathBuf, PathBuf)> {
        self.edges()
            .into_iter()
            .filter(|(a, b)| files.contains(&self.files[*a]) && files.contains(&self.files[*b]))
            .map(|(a, b)| (self.files[a].clone(), self.files[b].clone()))
            .collect()
    }
}

fn item_name(item: &syn::Item) -> Option<String> {
    Some(match item {
        syn::Item::Const(i) => i.ident.to_string(),
        syn::Item::Enum(i) => i.ident.to_string(),
        syn::Item::Fn(i) => i.sig.ident.to_string(),
        syn::Item::Static(i) => i.ident.to_string(),
        syn::Item::Struct(i) => i.ident.to_string(),
        syn::Item::Trait(i) => i.ident.to_string(),
        syn::Item::Type(i) => i.ident.to_string(),
        syn::Item::Union(i) => i.ident.to_string(),
        syn::Item::Macro(i) => i.ident.as_ref()?.to_string(),
        _ => return None,
    })
}

/// A use tree as (path, bound name, glob) leaves; `self` in a group binds the group's module.
fn flatten(tree: &syn::UseTree, prefix: Vec<String>, out: &mut Vec<(Vec<String>, String, bool)>) {
    match tree {
        syn::UseTree::Path(p) => {
            let mut next = prefix;
            next.push(p.ident.to_string());
            flatten(&p.tree, next, out);
        }
        syn::UseTree::Name(n) if n.ident == "self" => {
            if let Some(last) = prefix.last().cloned() {
                out.push((prefix, last, false));
            }
        }
        syn::UseTree::Name(n) => {
            let mut path = prefix;
            path.push(n.ident.to_string());
            out.push((path, n.ident.to_string(), false));
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix;
            if r.ident != "self" {
                path.push(r.ident.to_string());
            }
            out.push((path, r.rename.to_string(), false));
        }
        syn::UseTree::Glob(_) => out.push((prefix, String::new(), true)),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                flatten(t, prefix.clone(), out);
            }
        }
    }
}

/// Every multi-segment path in expressions, types, patterns and macro paths.
#[derive(Default)]
struct PathCollector {
    paths: Vec<Vec<String>>,
}

impl<'ast> Visit<'ast> for PathCollector {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.segments.len() > 1 {
            self.paths
                .push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        // A `use` inside a function body: counted as a use of what it names.
        let mut out = Vec::new();
        flatten(&u.tree, Vec::new(), &mut out);
        self.paths
            .extend(out.into_iter().filter(|(_, _, glob)| !glob).map(|(p, _, _)| p));
    }

    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {
        // An inline module is its own module, walked on its own.
    }
}

/// Tarjan's algorithm, iterative enough for a crate's few hundred files.
fn strongly_connected(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        adj: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &s.adj[v] {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(i) if s.on_stack[w] => s.low[v] = s.low[v].min(i),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let n = adj.len();
    let mut s = State {
        adj,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}
