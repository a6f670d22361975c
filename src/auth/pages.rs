//! Log in and register pages.

use super::rpc::{Login, Register};
use crate::{error::AppError, ui::FieldError, ui::FormAlert};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn next_param() -> Memo<String> {
    let query = use_query_map();
    Memo::new(move |_| super::model::safe_next(query.read().get("next").as_deref()))
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let next = next_param();
    let error = Signal::derive(move || match login.value().get() {
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    });
    let register_href = move || {
        let n = next.get();
        if n == "/" {
            "/register".to_owned()
        } else {
            format!("/register?next={}", urlencode(&n))
        }
    };
    view! {
        <Title text="Log in" />
        <section class="auth-card">
            <h1>"Log in"</h1>
            <p class="muted">"Welcome back. Log in to sell your car and manage your listings."</p>
            <FormAlert message=error />
            <ActionForm action=login attr:class="stack">
                <input type="hidden" name="next" value=next />
                <div class="field">
                    <label for="login-username">"Username"</label>
                    <input
                        id="login-username"
                        name="username"
                        type="text"
                        autocomplete="username"
                        required
                        maxlength="100"
                    />
                </div>
                <div class="field">
                    <label for="login-password">"Password"</label>
                    <input
                        id="login-password"
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        required
                    />
                </div>
                <button
                    type="submit"
                    class="button button-primary button-block"
                    disabled=move || login.pending().get()
                >
                    "Log in"
                </button>
            </ActionForm>
            <p class="muted">"New to AutoNexus? " <a href=register_href>"Create an account"</a></p>
        </section>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let register = ServerAction::<Register>::new();
    let next = next_param();
    let field = move |name: &'static str| {
        Signal::derive(move || match register.value().get() {
            Some(Err(AppError::Validation(errors))) => errors.get(name).cloned(),
            _ => None,
        })
    };
    let alert = Signal::derive(move || match register.value().get() {
        Some(Err(AppError::Validation(_))) => {
            Some("Please correct the highlighted fields.".to_owned())
        }
        Some(Err(other)) => Some(other.to_string()),
        _ => None,
    });
    let login_href = move || {
        let n = next.get();
        if n == "/" {
            "/login".to_owned()
        } else {
            format!("/login?next={}", urlencode(&n))
        }
    };
    view! {
        <Title text="Register" />
        <section class="auth-card">
            <h1>"Create your account"</h1>
            <p class="muted">"It takes a minute, and you can list your first car straight away."</p>
            <FormAlert message=alert />
            <ActionForm action=register attr:class="stack">
                <input type="hidden" name="next" value=next />
                <div class="field">
                    <label for="register-username">"Username"</label>
                    <input
                        id="register-username"
                        name="username"
                        type="text"
                        autocomplete="username"
                        required
                        minlength="3"
                        maxlength="30"
                        pattern="[A-Za-z0-9_.\\-]{3,30}"
                        aria-describedby="register-username-hint register-username-error"
                    />
                    <p class="hint" id="register-username-hint">
                        "3 to 30 letters, digits, _ . or -"
                    </p>
                    <FieldError id="register-username-error" message=field("username") />
                </div>
                <div class="field">
                    <label for="register-email">"Email (optional)"</label>
                    <input
                        id="register-email"
                        name="email"
                        type="email"
                        autocomplete="email"
                        maxlength="254"
                        aria-describedby="register-email-error"
                    />
                    <FieldError id="register-email-error" message=field("email") />
                </div>
                <div class="field">
                    <label for="register-password">"Password"</label>
                    <input
                        id="register-password"
                        name="password"
                        type="password"
                        autocomplete="new-password"
                        required
                        minlength="8"
                        aria-describedby="register-password-hint register-password-error"
                    />
                    <p class="hint" id="register-password-hint">
                        "At least 8 characters"
                    </p>
                    <FieldError id="register-password-error" message=field("password") />
                </div>
                <button
                    type="submit"
                    class="button button-primary button-block"
                    disabled=move || register.pending().get()
                >
                    "Register"
                </button>
            </ActionForm>
            <p class="muted">
                "Already have an account? " <a href=login_href>"Use your existing account"</a>
            </p>
        </section>
    }
}

pub fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
