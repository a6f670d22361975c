//! Prices and mileages as people read them.

/// "$15,999" or "$15,999.50".
pub fn format_price(cents: i64) -> String {
    let dollars = group_thousands(cents / 100);
    match cents % 100 {
        0 => format!("${dollars}"),
        rest => format!("${dollars}.{rest:02}"),
    }
}

/// The price as the edit form shows it: "15999" or "15999.50".
pub fn format_price_input(cents: i64) -> String {
    match cents % 100 {
        0 => (cents / 100).to_string(),
        rest => format!("{}.{rest:02}", cents / 100),
    }
}

/// "84,000 km".
pub fn format_mileage(km: i64) -> String {
    format!("{} km", group_thousands(km))
}

pub fn group_thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
