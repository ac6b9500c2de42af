//! The reverse map of OpenAI's tool dialect on functions-only upstreams: which flattened
//! function name stands for which `namespace` child or `custom` tool (`providers::dialect`
//! builds it from the request's own tools; the emitter gives calls back in the dialect).

use std::collections::HashMap;

/// What a flattened function name stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolOrigin {
    /// A `function` child of a `namespace` tool.
    Namespaced {
        /// The namespace's name.
        namespace: String,
        /// The child's bare name.
        name: String,
    },
    /// A `custom` tool (top level or in a namespace): its input is the `input` argument.
    Custom {
        /// The namespace's name, if nested.
        namespace: Option<String>,
        /// The tool's name.
        name: String,
    },
}

/// Flattened upstream name → dialect origin, built from the request's own tools.
#[derive(Debug, Clone, Default)]
pub struct ToolNames {
    by_flat: HashMap<String, ToolOrigin>,
    flat_of: HashMap<(Option<String>, String), String>,
}

impl ToolNames {
    /// What `flat` stands for; `None` for a plain top-level function.
    pub fn origin(&self, flat: &str) -> Option<&ToolOrigin> {
        self.by_flat.get(flat)
    }

    /// The flattened name given to `name` (in `namespace`), if it was flattened.
    pub fn flat_name(&self, namespace: Option<&str>, name: &str) -> Option<&str> {
        self.flat_of
            .get(&(namespace.map(str::to_owned), name.to_owned()))
            .map(String::as_str)
    }

    /// Records that `flat` stands for `origin`.
    pub fn insert(&mut self, flat: String, origin: ToolOrigin) {
        let key = match &origin {
            ToolOrigin::Namespaced { namespace, name } => (Some(namespace.clone()), name.clone()),
            ToolOrigin::Custom { namespace, name } => (namespace.clone(), name.clone()),
        };
        self.flat_of.insert(key, flat.clone());
        self.by_flat.insert(flat, origin);
    }
}
