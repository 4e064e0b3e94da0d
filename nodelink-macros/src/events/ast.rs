//! The enum as the macro sees it: each variant with its wire name and fields.

use std::collections::HashMap;

use syn::{Data, DeriveInput, Fields, Ident, Type};

use crate::errors::Errors;
use crate::{naming, shape};

/// Wire names whose `on_…` method would be shadowed by a built-in event's method.
const RESERVED: &[&str] = &[
    "connect",
    "disconnect",
    "error",
    "state_sync",
    "tick",
    "reconnecting",
];

pub(super) struct EventSet<'a> {
    pub(super) ident: &'a Ident,
    pub(super) variants: Vec<Event<'a>>,
}

pub(super) struct Event<'a> {
    pub(super) ident: &'a Ident,
    /// The variant's name on the wire: its identifier in snake_case.
    pub(super) wire_name: String,
    pub(super) fields: &'a Fields,
}

pub(super) struct EventField<'a> {
    /// How generated code binds the field: its identifier, or `field_<i>`.
    pub(super) binding: Ident,
    /// The field's name in errors and fingerprints: its identifier, or its position.
    pub(super) name: String,
    pub(super) ty: &'a Type,
    pub(super) attrs: &'a [syn::Attribute],
}

impl<'a> Event<'a> {
    pub(super) fn fields(&self) -> impl Iterator<Item = EventField<'a>> + 'a {
        self.fields.iter().enumerate().map(|(i, field)| EventField {
            binding: field
                .ident
                .clone()
                .unwrap_or_else(|| quote::format_ident!("field_{i}")),
            name: shape::field_name(i, field),
            ty: &field.ty,
            attrs: &field.attrs,
        })
    }
}

impl<'a> EventSet<'a> {
    pub(super) fn from_syn(input: &'a DeriveInput) -> syn::Result<Self> {
        let ident = &input.ident;
        let data = match &input.data {
            Data::Enum(data) => data,
            Data::Struct(data) => {
                return Err(syn::Error::new_spanned(
                    data.struct_token,
                    format!("`#[nodelink::events]` goes on an enum whose variants are the events, and `{ident}` is a struct; for synced state use `#[derive(SyncState)]`"),
                ))
            }
            Data::Union(data) => {
                return Err(syn::Error::new_spanned(
                    data.union_token,
                    "`#[nodelink::events]` goes on an enum whose variants are the events, not a union",
                ))
            }
        };

        let mut errors = Errors::default();
        if let Some(param) = input.generics.params.first() {
            errors.push(syn::Error::new_spanned(
                param,
                format!("`#[nodelink::events]` does not support generic parameters; give the fields of `{ident}` concrete types"),
            ));
        }

        let mut seen: HashMap<String, &Ident> = HashMap::new();
        let mut variants = Vec::with_capacity(data.variants.len());
        for variant in &data.variants {
            let wire_name = naming::snake_case(&variant.ident.to_string());
            if let Some(first) = seen.get(&wire_name) {
                errors.push(syn::Error::new_spanned(
                    &variant.ident,
                    format!("variant `{}` has the wire name `{wire_name}`, which `{first}` already has; rename one of them", variant.ident),
                ));
            }
            if RESERVED.contains(&wire_name.as_str()) {
                errors.push(syn::Error::new_spanned(
                    &variant.ident,
                    format!("variant `{}` would generate `on_{wire_name}`, which is nodelink's built-in `{wire_name}` event; rename the variant", variant.ident),
                ));
            }
            seen.insert(wire_name.clone(), &variant.ident);
            variants.push(Event {
                ident: &variant.ident,
                wire_name,
                fields: &variant.fields,
            });
        }
        // Each variant `V` also names the generated view `{Enum}VMut`.
        for event in &variants {
            let view = format!("{}Mut", event.ident);
            if let Some(other) = variants.iter().find(|other| other.ident == view.as_str()) {
                errors.push(syn::Error::new_spanned(
                    other.ident,
                    format!("variant `{view}` would generate `{ident}{view}`, which is already the view of `{}`'s fields that its middleware receives; rename one of the two variants", event.ident),
                ));
            }
        }
        errors.finish()?;
        Ok(Self { ident, variants })
    }
}
