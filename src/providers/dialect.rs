//! OpenAI's tool dialect (`namespace`, `custom`, hosted tools) on upstreams that only know
//! functions (Chat Completions, Anthropic, Gemini): flattening into function names every one of
//! them accepts, the reverse map that gives calls back in the dialect, and the tools left out.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::{
    api::{
        CreateResponse, CustomTool, FunctionCallItem, FunctionCallOutputItem, FunctionTool, Item,
        Tool,
    },
    config::UnsupportedTools,
    error::GatewayError,
    providers::web_search::Native,
    stream::{ToolNames, ToolOrigin},
};

/// The upstream name of `name` (in `namespace`): as flattened for this request, else made
/// valid the same way.
fn flat(names: &ToolNames, namespace: Option<&str>, name: &str) -> String {
    names
        .flat_name(namespace, name)
        .map_or_else(|| sanitize(&joined(namespace, name)), str::to_owned)
}

/// The longest function name accepted by all three: Chat Completions and Anthropic allow
/// `^[a-zA-Z0-9_-]{1,64}$`, Gemini 64 characters starting with a letter or underscore
/// (docs/providers/mapping.md).
const MAX_NAME: usize = 64;

/// A request rewritten for a functions-only upstream.
#[derive(Debug)]
pub struct Lowered {
    /// The request with only function tools.
    pub request: CreateResponse,
    /// The input with dialect items turned into function calls and outputs.
    pub input: Vec<Item>,
    /// How to give calls back.
    pub names: ToolNames,
    /// The `type`s of the tools left out, in order, without repeats.
    pub dropped: Vec<String>,
}

/// Whether the request uses anything a functions-only upstream needs rewritten.
pub fn needs_lowering(request: &CreateResponse, input: &[Item]) -> bool {
    request
        .tools
        .iter()
        .flatten()
        .any(|t| !matches!(t, Tool::Function(_)))
        || input.iter().any(|item| match item {
            Item::FunctionCall(call) => top_namespace(call.namespace.as_deref()).is_some(),
            Item::CustomToolCall(_) | Item::CustomToolCallOutput(_) | Item::Other(_) => true,
            _ => false,
        })
}

/// The tool `type`s `provider` cannot serve, in order without repeats (`tools[i]` order);
/// with `reject`, the first one is a 400 `unsupported_tool`. `web_search`: what the upstream's
/// own web search takes for this request (`providers::web_search`).
pub fn unsupported_tools(
    request: &CreateResponse,
    provider: &str,
    web_search: Native,
    policy: UnsupportedTools,
) -> Result<Vec<String>, GatewayError> {
    let mut dropped: Vec<String> = Vec::new();
    for (i, tool) in request.tools.iter().flatten().enumerate() {
        if web_search.search && super::web_search::is_live(tool) {
            continue;
        }
        if let Tool::Other(_) = tool {
            if policy == UnsupportedTools::Reject {
                return Err(GatewayError::InvalidRequest {
                    message: format!(
                        "Tools of type `{}` cannot be served by provider `{provider}`.",
                        tool.kind()
                    ),
                    param: Some(format!("tools[{i}].type")),
                    code: "unsupported_tool",
                });
            }
            if !dropped.iter().any(|d| d == tool.kind()) {
                dropped.push(tool.kind().to_owned());
            }
        }
    }
    Ok(dropped)
}

/// Rewrites `request` and `input` for a functions-only upstream. `web_search` says whether live
/// `web_search` tools are kept for the upstream's own search, and whether `web_search_call`
/// items in the input are left out (`providers::web_search` says why).
pub fn lower(
    request: &CreateResponse,
    input: &[Item],
    provider: &str,
    web_search: Native,
    policy: UnsupportedTools,
) -> Result<Lowered, GatewayError> {
    let dropped = unsupported_tools(request, provider, web_search, policy)?;
    let (mut tools, names) = flatten_tools(request.tools.as_deref().unwrap_or_default());
    if web_search.search {
        let live = request.tools.iter().flatten();
        tools.extend(live.filter(|t| super::web_search::is_live(t)).cloned());
    }
    let mut lowered_request = request.clone();
    lowered_request.tools = request.tools.as_ref().map(|_| tools);
    let input = input
        .iter()
        .enumerate()
        .map(|(i, item)| match item.other_kind() {
            // Kept in place (positions name items in errors); the translator leaves it out.
            Some("web_search_call") if web_search.past_searches => Ok(item.clone()),
            _ => lower_item(item, i, &names, provider),
        })
        .collect::<Result<_, _>>()?;
    Ok(Lowered {
        request: lowered_request,
        input,
        names,
        dropped,
    })
}

/// Top-level functions first (their names are kept), then namespace children and custom
/// tools under names that avoid every name already taken.
fn flatten_tools(tools: &[Tool]) -> (Vec<Tool>, ToolNames) {
    let mut taken: HashSet<String> = tools
        .iter()
        .filter_map(|t| match t {
            Tool::Function(f) => Some(f.name.clone()),
            _ => None,
        })
        .collect();
    let mut names = ToolNames::default();
    let mut out = Vec::with_capacity(tools.len());
    for tool in tools {
        match tool {
            Tool::Function(f) => out.push(Tool::Function(f.clone())),
            Tool::Custom(custom) => {
                out.push(custom_function(custom, None, &mut taken, &mut names));
            }
            Tool::Namespace(ns) => {
                for child in &ns.tools {
                    let namespace = Some(ns.name.as_str());
                    match child {
                        Tool::Function(f) => {
                            let flat = unique(&joined(namespace, &f.name), &mut taken);
                            let description = match (&ns.description, &f.description) {
                                (Some(group), Some(own)) => Some(format!("{own}\n\n({group})")),
                                (_, own) => own.clone(),
                            };
                            names.insert(
                                flat.clone(),
                                ToolOrigin::Namespaced {
                                    namespace: ns.name.clone(),
                                    name: f.name.clone(),
                                },
                            );
                            out.push(Tool::Function(FunctionTool {
                                name: flat,
                                description,
                                ..f.clone()
                            }));
                        }
                        Tool::Custom(custom) => {
                            out.push(custom_function(custom, namespace, &mut taken, &mut names));
                        }
                        // Nested namespaces and hosted tools inside one are not in the dialect.
                        Tool::Namespace(_) | Tool::Other(_) => {}
                    }
                }
            }
            Tool::Other(_) => {}
        }
    }
    (out, names)
}

/// A custom tool as a function with one string argument, `input`, whose description carries
/// the format (OpenAI's grammar tools have no counterpart elsewhere).
fn custom_function(
    custom: &CustomTool,
    namespace: Option<&str>,
    taken: &mut HashSet<String>,
    names: &mut ToolNames,
) -> Tool {
    let flat = unique(&joined(namespace, &custom.name), taken);
    names.insert(
        flat.clone(),
        ToolOrigin::Custom {
            namespace: namespace.map(str::to_owned),
            name: custom.name.clone(),
        },
    );
    let mut input = String::from("The complete raw input of the tool, as plain text.");
    if let Some(format) = &custom.format
        && format.get("type").and_then(Value::as_str) == Some("grammar")
    {
        let syntax = format.get("syntax").and_then(Value::as_str).unwrap_or("");
        let definition = format
            .get("definition")
            .and_then(Value::as_str)
            .unwrap_or("");
        input = format!("{input} It must match this {syntax} grammar exactly:\n{definition}");
    }
    Tool::Function(FunctionTool {
        name: flat,
        description: custom.description.clone(),
        parameters: Some(json!({
            "type": "object",
            "properties": {"input": {"type": "string", "description": input}},
            "required": ["input"],
        })),
        strict: None,
    })
}

fn lower_item(
    item: &Item,
    index: usize,
    names: &ToolNames,
    provider: &str,
) -> Result<Item, GatewayError> {
    Ok(match item {
        Item::FunctionCall(call) => match top_namespace(call.namespace.as_deref()) {
            Some(namespace) => Item::FunctionCall(FunctionCallItem {
                name: flat(names, Some(namespace), &call.name),
                namespace: None,
                ..call.clone()
            }),
            None => Item::FunctionCall(FunctionCallItem {
                namespace: None,
                ..call.clone()
            }),
        },
        Item::CustomToolCall(call) => Item::FunctionCall(FunctionCallItem {
            id: call.id.clone(),
            call_id: call.call_id.clone(),
            name: flat(names, top_namespace(call.namespace.as_deref()), &call.name),
            arguments: json!({"input": call.input}).to_string(),
            namespace: None,
            status: call.status,
        }),
        Item::CustomToolCallOutput(output) => Item::FunctionCallOutput(FunctionCallOutputItem {
            id: output.id.clone(),
            call_id: output.call_id.clone(),
            output: output.output.clone(),
            status: None,
        }),
        Item::Other(_) => {
            return Err(GatewayError::invalid(
                format!(
                    "`{}` items cannot be sent to provider `{provider}`.",
                    item.other_kind().unwrap_or_default()
                ),
                Some(&format!("input[{index}]")),
            ));
        }
        other => other.clone(),
    })
}

/// The error for a dialect item that reached a functions-only translator without `lower`
/// (a gateway bug: every such attempt is lowered first).
pub fn not_lowered(item: &Item) -> GatewayError {
    GatewayError::Internal(format!(
        "a `{}` item reached a functions-only provider unlowered",
        item.other_kind().unwrap_or("custom_tool_call")
    ))
}

/// A namespace that is not the top level (missing, `""` and `functions` are, for Codex).
fn top_namespace(namespace: Option<&str>) -> Option<&str> {
    namespace.filter(|ns| !ns.is_empty() && *ns != "functions")
}

fn joined(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{ns}__{name}"),
        None => name.to_owned(),
    }
}

/// Characters outside `[a-zA-Z0-9_-]` become `_`; a name must start with a letter or `_`.
fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

/// `wanted`, made valid and distinct from `taken`: too long or already taken, it is cut and
/// given a hash suffix (then a counter), so the same tools always get the same names.
fn unique(wanted: &str, taken: &mut HashSet<String>) -> String {
    let clean = sanitize(wanted);
    let mut candidate = clean.clone();
    if candidate.len() > MAX_NAME || taken.contains(&candidate) {
        let hash = fnv1a(wanted.as_bytes());
        let stem: String = clean.chars().take(MAX_NAME - 9).collect();
        candidate = format!("{stem}_{hash:08x}");
        let mut n = 2u32;
        while taken.contains(&candidate) {
            let suffix = format!("_{hash:08x}{n}");
            let stem: String = clean.chars().take(MAX_NAME - suffix.len()).collect();
            candidate = format!("{stem}{suffix}");
            n += 1;
        }
    }
    taken.insert(candidate.clone());
    candidate
}

/// 32-bit FNV-1a: stable across builds and platforms, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |hash, b| {
        (hash ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests;
