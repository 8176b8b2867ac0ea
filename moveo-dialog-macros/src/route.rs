//! `#[node("NAME")]` and `#[intent("NAME", min_confidence = 0.7)]`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{Error, FnArg, ItemFn, LitFloat, LitStr, Token};

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Node,
    Intent,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Node => "node",
            Self::Intent => "intent",
        }
    }
}

struct Args {
    name: LitStr,
    min_confidence: Option<LitFloat>,
}

fn parse_args(kind: Kind, input: ParseStream<'_>) -> syn::Result<Args> {
    let usage = match kind {
        Kind::Node => "expected `#[node(\"NODE_NAME\")]`",
        Kind::Intent => "expected `#[intent(\"INTENT_NAME\")]` or `#[intent(\"INTENT_NAME\", min_confidence = 0.7)]`",
    };
    if input.is_empty() {
        return Err(Error::new(Span::call_site(), usage));
    }
    let name: LitStr = input.parse().map_err(|err| Error::new(err.span(), usage))?;
    if name.value().trim().is_empty() {
        return Err(Error::new(name.span(), format!("the {} name must not be empty", kind.name())));
    }
    let mut min_confidence = None;
    if input.is_empty() {
        return Ok(Args { name, min_confidence });
    }
    input.parse::<Token![,]>()?;
    if input.is_empty() {
        return Ok(Args { name, min_confidence });
    }
    let key: syn::Ident = input.parse().map_err(|err| Error::new(err.span(), usage))?;
    if !matches!(kind, Kind::Intent) || key != "min_confidence" {
        return Err(Error::new(key.span(), format!("unknown argument `{key}`: {usage}")));
    }
    input.parse::<Token![=]>()?;
    let value: LitFloat =
        input.parse().map_err(|err| Error::new(err.span(), "min_confidence must be a number such as 0.7"))?;
    let number: f64 = value.base10_parse()?;
    if !(0.0..=1.0).contains(&number) {
        return Err(Error::new(value.span(), format!("min_confidence must be between 0 and 1, not {number}")));
    }
    min_confidence = Some(value);
    let _ = input.parse::<Option<Token![,]>>()?;
    if !input.is_empty() {
        return Err(Error::new(input.span(), format!("unexpected tokens: {usage}")));
    }
    Ok(Args { name, min_confidence })
}

pub(crate) fn expand(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(kind, attr, item.clone()) {
        Ok(tokens) => tokens,
        // Keep the function, so the only errors are the attribute's own.
        Err(err) => {
            let err = err.to_compile_error();
            quote! { #err #item }
        }
    }
}

fn try_expand(kind: Kind, attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut errors: Vec<Error> = Vec::new();
    let args = syn::parse::Parser::parse2(|input: ParseStream<'_>| parse_args(kind, input), attr);
    let function: ItemFn = syn::parse2(item)?;
    if function.sig.asyncness.is_none() {
        errors
            .push(Error::new(function.sig.fn_token.span(), format!("#[{}] handlers must be `async fn`", kind.name())));
    }
    if !function.sig.generics.params.is_empty() {
        errors.push(Error::new(function.sig.generics.span(), "handlers cannot be generic"));
    }
    let mut types = Vec::new();
    for input in &function.sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.push(Error::new(receiver.span(), "handlers cannot take `self`")),
            FnArg::Typed(typed) => types.push(typed.ty.clone()),
        }
    }
    let args = match args {
        Ok(args) => Some(args),
        Err(err) => {
            errors.push(err);
            None
        }
    };
    if let Some(combined) = errors.into_iter().reduce(|mut all, next| {
        all.combine(next);
        all
    }) {
        return Err(combined);
    }
    let Some(args) = args else { return Err(Error::new(Span::call_site(), "invalid attribute")) };

    let vis = &function.vis;
    let ident = &function.sig.ident;
    let attrs = &function.attrs;
    let docs: Vec<_> = attrs.iter().filter(|a| a.path().is_ident("doc")).collect();
    let mut inner = function.clone();
    inner.attrs.push(syn::parse_quote!(#[doc = "The handler's body, callable directly (in tests, for instance)."]));
    inner.vis = syn::parse_quote!(pub);
    inner.sig.ident = format_ident!("handle");
    let name = &args.name;
    let route = match kind {
        Kind::Node => quote! { ::moveo_dialog::Route::Node(::std::string::String::from(#name)) },
        Kind::Intent => {
            let min = args
                .min_confidence
                .as_ref()
                .map_or_else(|| quote! { ::moveo_dialog::dialog::DEFAULT_MIN_CONFIDENCE }, |value| quote! { #value });
            quote! { ::moveo_dialog::Route::Intent { name: ::std::string::String::from(#name), min_confidence: #min } }
        }
    };
    let tuple = quote! { (#(#types,)*) };
    let span = ident.span();
    // Each argument is extracted with its own span, and the result converted with the return
    // type's span, so a type that is not an extractor (or not a reply) is reported right there.
    let names: Vec<_> = (0..types.len()).map(|i| format_ident!("__moveo_dialog_arg{i}")).collect();
    let extractions = types.iter().zip(&names).map(|(ty, name)| {
        quote_spanned! {ty.span()=>
            let #name = <#ty as ::moveo_dialog::extract::FromCall>::from_call(call)
                .map_err(::moveo_dialog::serve::IntoRejection::into_rejection)?;
        }
    });
    let needs = types.iter().map(|ty| {
        quote_spanned! {ty.span()=>
            <#ty as ::moveo_dialog::extract::FromCall>::required_state(&mut needs);
        }
    });
    let (output_span, output) = match &function.sig.output {
        syn::ReturnType::Default => (function.sig.ident.span(), quote! { () }),
        syn::ReturnType::Type(_, ty) => (ty.span(), quote! { #ty }),
    };
    let into_reply = quote_spanned! {output_span=>
        <#output as ::moveo_dialog::IntoReply>::into_reply(future.await)
    };
    let handler_impl = quote_spanned! {span=>
        impl ::moveo_dialog::Handler<#tuple> for #ident {
            fn call(
                &self,
                call: &::moveo_dialog::extract::Call<'_>,
            ) -> ::std::result::Result<::moveo_dialog::dialog::HandlerFuture, ::moveo_dialog::Rejection> {
                let _ = call;
                #(#extractions)*
                let future = Self::handle(#(#names),*);
                ::std::result::Result::Ok(::std::boxed::Box::pin(async move { #into_reply }))
            }

            #[allow(unused_mut)]
            fn required_state(&self) -> ::std::vec::Vec<::moveo_dialog::extract::StateRequirement> {
                let mut needs = ::std::vec::Vec::new();
                #(#needs)*
                needs
            }

            #[allow(unused_mut)]
            fn context_types(&self) -> ::std::vec::Vec<::moveo_dialog::extract::ContextType> {
                let mut types = ::std::vec::Vec::new();
                #(types.extend(<#types as ::moveo_dialog::extract::FromCall>::context_type());)*
                types
            }
        }
    };
    Ok(quote! {
        #(#docs)*
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, Default)]
        #vis struct #ident;

        impl #ident {
            #inner
        }

        #handler_impl

        impl ::moveo_dialog::RoutedHandler<#tuple> for #ident {
            fn route(&self) -> ::moveo_dialog::Route {
                #route
            }
        }
    })
}
