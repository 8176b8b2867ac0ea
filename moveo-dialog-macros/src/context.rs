//! `#[derive(DialogContext)]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Error, Fields, LitStr};

const RESERVED: [&str; 2] = ["global", "channels"];

struct Field {
    key: String,
    read_only: bool,
}

fn field(field: &syn::Field, errors: &mut Vec<Error>) -> Option<Field> {
    let ident = field.ident.as_ref()?;
    let mut key = ident.to_string().trim_start_matches("r#").to_owned();
    let mut key_span = ident.span();
    let mut read_only = false;
    for attr in &field.attrs {
        if attr.path().is_ident("serde") {
            // Only `rename` matters here; every other serde option is serde's business.
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    if let Ok(value) = meta.value() {
                        let rename: LitStr = value.parse()?;
                        key = rename.value();
                        key_span = rename.span();
                    }
                } else if meta.input.peek(syn::Token![=]) {
                    let _ = meta.value()?.parse::<syn::Expr>()?;
                } else if meta.input.peek(syn::token::Paren) {
                    let _ = meta.input.parse::<proc_macro2::Group>()?;
                }
                Ok(())
            });
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
    let fields: Vec<Field> = named.named.iter().filter_map(|f| field(f, &mut errors)).collect();
    if let Some(mut first) = errors.first().cloned() {
        for err in errors.into_iter().skip(1) {
            first.combine(err);
        }
        return first.to_compile_error();
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
