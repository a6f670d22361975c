//! The HTML shell, the app root with its navbar, and the route table.

use crate::{
    auth::{
        model::User,
        pages::{LoginPage, RegisterPage},
        rpc::{current_user, Logout},
    },
    cars::pages::{
        CarDetailsPage, DeleteCarPage, EditCarPage, MyListingsPage, SellCarPage, UsedCarsPage,
    },
    error::AppError,
    ui::NotFound,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Meta, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    ParamSegment, SsrMode, StaticSegment,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.ico" sizes="any" />
                <HashedStylesheet options=options.clone() id="leptos" />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Who is signed in, read once per page on the server and shared by the navbar and
/// the pages. (Every page is rendered on the server: signing in or out loads a new page.)
#[derive(Clone, Copy)]
pub struct AuthContext {
    pub user: Resource<Result<Option<User>, AppError>>,
}

pub fn use_auth() -> AuthContext {
    expect_context::<AuthContext>()
}

/// leptos_meta 0.8 writes the title into the server's HTML unescaped, so a listing
/// titled `</title><script>…` would run script. Escape it there; in the browser the
/// title is set as text (document.title) and must stay as it is.
fn escape_title_for_ssr(title: String) -> String {
    if cfg!(feature = "ssr") {
        title
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    } else {
        title
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let user = Resource::new(|| (), |_| current_user());
    provide_context(AuthContext { user });

    view! {
        <Title formatter=|title: String| {
            let full = if title.is_empty() {
                "AutoNexus".to_owned()
            } else {
                format!("{title} · AutoNexus")
            };
            escape_title_for_ssr(full)
        } />
        <Meta name="description" content="Buy and sell used cars on AutoNexus." />
        <Router>
            <a class="skip-link" href="#main">
                "Skip to content"
            </a>
            <Navbar />
            <main id="main" class="container">
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=StaticSegment("") view=UsedCarsPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("cars") view=UsedCarsPage ssr=SsrMode::Async />
                    <Route
                        path=(StaticSegment("cars"), ParamSegment("id"))
                        view=CarDetailsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("cars"), ParamSegment("id"), StaticSegment("edit"))
                        view=EditCarPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("cars"), ParamSegment("id"), StaticSegment("delete"))
                        view=DeleteCarPage
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment("sell") view=SellCarPage ssr=SsrMode::Async />
                    <Route
                        path=StaticSegment("my-listings")
                        view=MyListingsPage
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment("login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("register") view=RegisterPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("about") view=AboutPage />
                </Routes>
            </main>
            <footer class="site-footer">
                <div class="container">
                    <p>
                        "AutoNexus — used cars from real sellers. Prices in US dollars; mileage in kilometres."
                    </p>
                    <p>
                        <a href="/about">"About AutoNexus"</a>
                        " · Town data © "
                        <a href="https://www.geonames.org">"GeoNames"</a>
                        ", CC BY 4.0"
                    </p>
                </div>
            </footer>
        </Router>
    }
}

/// What AutoNexus is, how its distances work, and whose data it uses.
#[component]
fn AboutPage() -> impl IntoView {
    view! {
        <Title text="About" />
        <article class="prose">
            <h1>"About AutoNexus"</h1>
            <p>
                "AutoNexus is a marketplace for used cars sold by their owners. Every car listed is for sale now; sellers edit or remove their own listings at any time."
            </p>
            <h2>"Where cars are"</h2>
            <p>
                "A seller names the town where buyers can see the car. When you search near a town, distances are measured in a straight line between the centres of the two towns (the great-circle distance), so the drive may be longer."
            </p>
            <h2>"Data"</h2>
            <p>
                "Town names, regions, populations and coordinates come from "
                <a href="https://www.geonames.org">"GeoNames"</a> ", licensed under "
                <a href="https://creativecommons.org/licenses/by/4.0/">
                    "Creative Commons Attribution 4.0"
                </a> ". We list towns of the United States with 1,000 or more inhabitants."
            </p>
        </article>
    }
}

#[component]
fn Navbar() -> impl IntoView {
    let auth = use_auth();
    let logout = ServerAction::<Logout>::new();
    view! {
        <header class="navbar">
            <nav class="container navbar-inner" aria-label="Main">
                <A href="/" attr:class="brand">
                    <span class="brand-mark" aria-hidden="true">
                        "A"
                    </span>
                    "AutoNexus"
                </A>
                <ul class="nav-links">
                    <li>
                        <A href="/cars">"Buy Used Cars"</A>
                    </li>
                    <li>
                        <A href="/sell" attr:class="button button-primary nav-sell">
                            "Sell Your Car"
                        </A>
                    </li>
                    <li>
                        <A href="/my-listings">"My listings"</A>
                    </li>
                </ul>
                <div class="nav-account">
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            match auth.user.await {
                                Ok(Some(user)) => {
                                    view! {
                                        <span class="nav-user" title="Signed in">
                                            {user.username}
                                        </span>
                                        <ActionForm action=logout attr:class="inline-form">
                                            <button type="submit" class="button button-quiet">
                                                "Log out"
                                            </button>
                                        </ActionForm>
                                    }
                                        .into_any()
                                }
                                _ => {
                                    view! {
                                        <A href="/login" attr:class="button button-quiet">
                                            "Log in"
                                        </A>
                                        <A href="/register" attr:class="button button-outline">
                                            "Register"
                                        </A>
                                    }
                                        .into_any()
                                }
                            }
                        })}
                    </Transition>
                </div>
            </nav>
        </header>
    }
}
