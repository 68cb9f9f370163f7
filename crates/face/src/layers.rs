//! Splitting a template into a fixed layer (borders, ornaments, titles, labels: the same
//! on every face) and a data layer (everything a placeholder, a slot or the watermark
//! touches), so the fixed layer is parsed, converted to PDF and rasterised once per
//! template instead of once per face.
//!
//! Invariants: the fixed layer has no placeholder, slot or wrap (else the template is not
//! split and renders whole); definitions (`<defs>`, gradients, patterns, clip paths,
//! `<style>`...) are in both layers, containers (`<g>`, `<a>`, `<switch>`) in both with
//! their children distributed, every other element in exactly one layer. Rendering draws
//! the data layer over the fixed layer, which is also the documented drawing order.

use std::collections::HashMap;
use std::sync::OnceLock;

use usvg::roxmltree::Node;

use crate::render::FixedLayer;
use crate::template::{Seg, Special};

/// Elements that only define things: kept in both layers.
const DEFINITIONS: [&str; 13] = [
    "defs",
    "clipPath",
    "mask",
    "pattern",
    "marker",
    "symbol",
    "linearGradient",
    "radialGradient",
    "filter",
    "style",
    "title",
    "desc",
    "metadata",
];

/// Elements whose children are split between the layers.
const CONTAINERS: [&str; 3] = ["g", "a", "switch"];

/// A template split in two.
#[derive(Debug)]
pub(crate) struct Layers {
    /// The fixed layer, a complete SVG document.
    pub(crate) fixed_svg: String,
    /// The data layer, to be filled like a whole template.
    pub(crate) data: Vec<Seg>,
    /// The fixed layer parsed and rendered, built on first use.
    pub(crate) fixed: OnceLock<Result<FixedLayer, String>>,
}

impl Layers {
    /// The layers from the two compiled halves; `None` when the fixed half is not constant.
    pub(crate) fn new(fixed: Vec<Seg>, data: Vec<Seg>) -> Option<Layers> {
        let mut fixed_svg = String::new();
        for seg in fixed {
            match seg {
                Seg::Lit(s) => fixed_svg.push_str(&s),
                _ => return None,
            }
        }
        Some(Layers {
            fixed_svg,
            data,
            fixed: OnceLock::new(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Drawn the same on every face.
    Fixed,
    /// Depends on the data.
    Data,
    /// A container with children of both kinds.
    Mixed,
    /// Definitions: in both layers.
    Both,
}

/// Ranges to skip (start → end) for the fixed layer and for the data layer; `None` when the
/// root itself depends on the data.
pub(crate) fn split(
    root: Node,
    specials: &HashMap<usize, (Node, Special)>,
) -> Option<(HashMap<usize, usize>, HashMap<usize, usize>)> {
    if has_placeholder_attribute(root) {
        return None;
    }
    let mut skips = (HashMap::new(), HashMap::new());
    // Only a template with both kinds of content gains from the split.
    (distribute(root, specials, &mut skips) == Class::Mixed).then_some(skips)
}

/// Classifies the children of a container and records which layer skips each.
fn distribute(
    node: Node,
    specials: &HashMap<usize, (Node, Special)>,
    skips: &mut (HashMap<usize, usize>, HashMap<usize, usize>),
) -> Class {
    let classes: Vec<(Node, Class)> = node
        .children()
        .filter(Node::is_element)
        .map(|n| (n, classify(n, specials, skips)))
        .collect();
    let all = |ok: &[Class]| classes.iter().all(|(_, c)| ok.contains(c));
    if all(&[Class::Both]) {
        return Class::Both;
    }
    if all(&[Class::Fixed, Class::Both]) {
        return Class::Fixed;
    }
    if all(&[Class::Data, Class::Both]) {
        return Class::Data;
    }
    for (child, class) in classes {
        let range = child.range();
        match class {
            Class::Fixed => {
                skips.1.insert(range.start, range.end);
            }
            Class::Data => {
                skips.0.insert(range.start, range.end);
            }
            Class::Mixed | Class::Both => {}
        }
    }
    Class::Mixed
}

fn classify(
    node: Node,
    specials: &HashMap<usize, (Node, Special)>,
    skips: &mut (HashMap<usize, usize>, HashMap<usize, usize>),
) -> Class {
    let name = node.tag_name().name();
    if DEFINITIONS.contains(&name) {
        return Class::Both;
    }
    if specials.contains_key(&node.range().start) || has_placeholder_attribute(node) {
        return Class::Data;
    }
    if CONTAINERS.contains(&name) {
        return match distribute(node, specials, skips) {
            // An empty group draws nothing: keep it in the fixed layer.
            Class::Both if node.children().any(|n| n.is_element()) => Class::Both,
            Class::Both => Class::Fixed,
            class => class,
        };
    }
    let data = node.descendants().any(|d| {
        (d.is_text() && d.text().is_some_and(|t| t.contains("{{")))
            || (d.is_element()
                && (specials.contains_key(&d.range().start) || has_placeholder_attribute(d)))
    });
    if data {
        Class::Data
    } else {
        Class::Fixed
    }
}

fn has_placeholder_attribute(node: Node) -> bool {
    node.attributes().any(|a| a.value().contains("{{"))
}
