//! `#[derive(DialogContext)]`: the context keys a struct reads and writes, exactly as serde
//! names them (container `rename_all`, field `rename`, `rename(serialize = ..)`), or a compile
//! error naming the serde attribute it cannot map.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Error, Fields, LitStr};

const RESERVED: [&str; 2] = ["global", "channels"];

/// serde's `rename_all` rules, applied to a field name as `serde_derive` does.
#[derive(Clone, Copy)]
enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    const ALL: [(&'static str, Self); 8] = [
        ("lowercase", Self::Lower),
        ("UPPERCASE", Self::Upper),
        ("PascalCase", Self::Pascal),
        ("camelCase", Self::Camel),
        ("snake_case", Self::Snake),
        ("SCREAMING_SNAKE_CASE", Self::ScreamingSnake),
        ("kebab-case", Self::Kebab),
        ("SCREAMING-KEBAB-CASE", Self::ScreamingKebab),
    ];

    /// The rule a `rename_all` literal names; an unknown one is serde's own error to report.
    fn parse(literal: &LitStr) -> Option<Self> {
        let value = literal.value();
        Self::ALL.iter().find(|(name, _)| *name == value).map(|(_, rule)| *rule)
    }

    fn apply(self, field: &str) -> String {
        match self {
            Self::Lower | Self::Snake => field.to_owned(),
            Self::Upper | Self::ScreamingSnake => field.to_ascii_uppercase(),
            Self::Pascal => {
                let mut pascal = String::new();
                let mut capitalize = true;
                for ch in field.chars() {
                    if ch == '_' {
                        capitalize = true;
                    } else if capitalize {
                        pascal.push(ch.to_ascii_uppercase());
                        capitalize = false;
                    } else {
                        pascal.push(ch);
                    }
                }
                pascal
            }
            Self::Camel => {
                let pascal = Self::Pascal.apply(field);
                let mut chars = pascal.chars();
                chars.next().map(|first| first.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
            }
            Self::Kebab => field.replace('_', "-"),
            Self::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }
}

/// serde attributes this derive cannot map to context keys, with why.
const UNMAPPABLE_FIELD: [(&str, &str); 2] = [
    ("flatten", "a flattened field writes the keys of another type, which this derive cannot see"),
    ("getter", "a remote getter is not a context key"),
];
const UNMAPPABLE_CONTAINER: [(&str, &str); 7] = [
    ("tag", "an internally tagged struct writes a tag key beside its fields"),
    ("untagged", "an untagged container has no fixed keys"),
    ("transparent", "a transparent struct writes its one field's value, not an object of keys"),
    ("into", "`into` serialises another type, whose keys this derive cannot see"),
    ("remote", "a remote derive describes another type"),
    ("rename_all_fields", "rename_all_fields applies to enum variants, not to a struct"),
    ("content", "an adjacently tagged container writes tag and content keys"),
];

/// A `name = "value"` or `name(serialize = "value", ..)` attribute: the name that is
/// serialised (what a reply writes).
fn serialized_name(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<Option<LitStr>> {
    if meta.input.peek(syn::Token![=]) {
        return Ok(Some(meta.value()?.parse()?));
    }
    let mut serialize = None;
    meta.parse_nested_meta(|inner| {
        let value: LitStr = inner.value()?.parse()?;
        if inner.path.is_ident("serialize") {
            serialize = Some(value);
        }
        Ok(())
    })?;
    Ok(serialize)
}

/// Skips the value of a serde option this derive does not need.
fn skip_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _ = meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _ = meta.input.parse::<proc_macro2::Group>()?;
    }
    Ok(())
}

fn container_rule(input: &DeriveInput, errors: &mut Vec<Error>) -> Option<RenameRule> {
    let mut rule = None;
    for attr in input.attrs.iter().filter(|attr| attr.path().is_ident("serde")) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") {
                if let Some(literal) = serialized_name(&meta)? {
                    rule = RenameRule::parse(&literal);
                }
                return Ok(());
            }
            if let Some((name, why)) = UNMAPPABLE_CONTAINER.iter().find(|(name, _)| meta.path.is_ident(name)) {
                return Err(meta.error(format!(
                    "DialogContext cannot map `#[serde({name})]`: {why}; write the context with ReplyBuilder::context instead"
                )));
            }
            skip_value(&meta)
        });
        if let Err(err) = parsed {
            errors.push(err);
        }
    }
    rule
}

struct Field {
    key: String,
    read_only: bool,
}

fn field(field: &syn::Field, rule: Option<RenameRule>, errors: &mut Vec<Error>) -> Option<Field> {
    let ident = field.ident.as_ref()?;
    let name = ident.to_string().trim_start_matches("r#").to_owned();
    let mut key = rule.map_or_else(|| name.clone(), |rule| rule.apply(&name));
    let mut key_span = ident.span();
    let mut read_only = false;
    let mut skipped = false;
    for attr in &field.attrs {
        if attr.path().is_ident("serde") {
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    if let Some(rename) = serialized_name(&meta)? {
                        key = rename.value();
                        key_span = rename.span();
                    }
                    return Ok(());
                }
                if meta.path.is_ident("skip") || meta.path.is_ident("skip_serializing") {
                    skipped = true;
                    return Ok(());
                }
                if let Some((name, why)) = UNMAPPABLE_FIELD.iter().find(|(name, _)| meta.path.is_ident(name)) {
                    return Err(meta.error(format!(
                        "DialogContext cannot map `#[serde({name})]` on field `{ident}`: {why}; write the context with ReplyBuilder::context instead"
                    )));
                }
                skip_value(&meta)
            });
            if let Err(err) = parsed {
                errors.push(err);
            }
        } else if attr.path().is_ident("context") {
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("read_only") {
                    read_only = true;
                    Ok(())
                } else {
                    Err(meta.error("unknown context option: expected `#[context(read_only)]`"))
                }
            });
            if let Err(err) = parsed {
                errors.push(err);
            }
        }
    }
    if skipped {
        return None;
    }
    if !read_only && RESERVED.contains(&key.as_str()) {
        errors.push(Error::new(
            key_span,
            format!(
                "field `{ident}` would write the reserved context key `{key}`: Moveo refuses replies that write \
                 `global` or `channels`; mark it #[context(read_only)] to read it only"
            ),
        ));
    }
    Some(Field { key, read_only })
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(err) => return err.to_compile_error(),
    };
    let Data::Struct(data) = &input.data else {
        return Error::new(input.ident.span(), "DialogContext can only be derived for a struct with named fields")
            .to_compile_error();
    };
    let Fields::Named(named) = &data.fields else {
        return Error::new(data.fields.span(), "DialogContext needs named fields: each field is a context key")
            .to_compile_error();
    };
    let mut errors = Vec::new();
    let rule = container_rule(&input, &mut errors);
    let fields: Vec<Field> = named.named.iter().filter_map(|f| field(f, rule, &mut errors)).collect();
    if let Some(combined) = errors.into_iter().reduce(|mut all, next| {
        all.combine(next);
        all
    }) {
        return combined.to_compile_error();
    }
    let ident = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let writable: Vec<&str> = fields.iter().filter(|f| !f.read_only).map(|f| f.key.as_str()).collect();
    let read_only: Vec<&str> = fields.iter().filter(|f| f.read_only).map(|f| f.key.as_str()).collect();
    quote! {
        impl #impl_generics ::moveo_dialog::DialogContext for #ident #type_generics #where_clause {
            const WRITABLE_KEYS: &'static [&'static str] = &[#(#writable),*];
            const READ_ONLY_KEYS: &'static [&'static str] = &[#(#read_only),*];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RenameRule;

    #[test]
    fn rename_rules_match_serde() {
        let cases = [
            ("lowercase", "total_months"),
            ("UPPERCASE", "TOTAL_MONTHS"),
            ("PascalCase", "TotalMonths"),
            ("camelCase", "totalMonths"),
            ("snake_case", "total_months"),
            ("SCREAMING_SNAKE_CASE", "TOTAL_MONTHS"),
            ("kebab-case", "total-months"),
            ("SCREAMING-KEBAB-CASE", "TOTAL-MONTHS"),
        ];
        for (name, expected) in cases {
            let rule = RenameRule::ALL.iter().find(|(n, _)| *n == name).unwrap().1;
            assert_eq!(rule.apply("total_months"), expected, "{name}");
        }
    }
}
