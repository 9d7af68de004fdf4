//! The layering README's Layout promises: `model` depends on nothing else of the crate, and no
//! two top-level modules depend on each other, directly or through others. Read from the
//! sources' `crate::` paths (tests left out), so a new import that breaks it fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module of src/ and the top-level modules its code names.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules: BTreeSet<String> = std::fs::read_dir(&src)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let name = name.strip_suffix(".rs").unwrap_or(&name).to_string();
            (!["lib", "main", "test_support"].contains(&name.as_str())).then_some(name)
        })
        .collect();
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = vec![src.clone()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap();
        if !name.ends_with(".rs") || name == "tests.rs" || name == "test_support.rs" {
            continue;
        }
        let relative = path.strip_prefix(&src).unwrap();
        let first = relative.iter().next().unwrap().to_str().unwrap();
        let module = first.strip_suffix(".rs").unwrap_or(first).to_string();
        if !modules.contains(&module) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Unit tests may reach anywhere; the code before them may not.
        let code = text.split("#[cfg(test)]").next().unwrap();
        let named = code.split("crate::").skip(1).flat_map(|after| {
            // `crate::model::...` or `crate::{model, report}`.
            let head = match after.strip_prefix('{') {
                Some(group) => group.split('}').next().unwrap(),
                None => after,
            };
            head.split(',')
                .map(|item| {
                    item.trim()
                        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                        .next()
                        .unwrap()
                        .to_string()
                })
                .collect::<Vec<_>>()
        });
        let entry = deps.entry(module.clone()).or_default();
        entry.extend(named.filter(|m| modules.contains(m) && *m != module));
    }
    deps
}

fn reaches(deps: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut next = vec![from.to_string()];
    while let Some(module) = next.pop() {
        for dep in deps.get(&module).into_iter().flatten() {
            if dep == to {
                return true;
            }
            if seen.insert(dep.clone()) {
                next.push(dep.clone());
            }
        }
    }
    false
}

#[test]
fn the_model_depends_on_nothing_and_no_modules_depend_on_each_other() {
    let deps = dependencies();
    assert!(deps.len() > 8, "{deps:?}");
    assert_eq!(
        deps.get("model").cloned().unwrap_or_default(),
        BTreeSet::new()
    );
    for (module, named) in &deps {
        for dep in named {
            assert!(
                !reaches(&deps, dep, module),
                "{module} uses {dep}, and {dep} leads back to {module}: {deps:#?}"
            );
        }
    }
    // Nothing but the binary's entry point uses the application layer.
    for (module, named) in &deps {
        assert!(
            !named.contains("app") || module == "app",
            "{module} uses app"
        );
    }
}
