//! Page texts in Simplified Chinese (default) and English, and the viewer's display
//! preferences (language, large text), kept in cookies so pages stay server-rendered.
//!
//! Texts live in `locales/zh.toml` and `locales/en.toml`; a key missing from a table shows
//! as the key itself (a test checks both tables have the same keys).

use std::collections::HashMap;
use std::sync::OnceLock;

use elicense_app::timeutil;
use elicense_app::wallet::csrf::CsrfToken;

/// A display language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

type Table = HashMap<String, &'static str>;

fn parse(src: &'static str) -> Table {
    let v: toml::Table = toml::from_str(src).expect("locale tables are valid TOML");
    v.into_iter()
        .map(|(k, v)| {
            let s = v.as_str().expect("locale values are strings").to_owned();
            (k, &*Box::leak(s.into_boxed_str()))
        })
        .collect()
}

/// The (zh, en) tables.
pub fn tables() -> &'static (Table, Table) {
    static T: OnceLock<(Table, Table)> = OnceLock::new();
    T.get_or_init(|| {
        (
            parse(include_str!("../../locales/zh.toml")),
            parse(include_str!("../../locales/en.toml")),
        )
    })
}

/// What a page needs to speak to its viewer.
#[derive(Debug, Clone, Copy)]
pub struct T {
    pub lang: Lang,
    /// Elder-friendly large-text mode.
    pub large: bool,
    /// The CSRF token of the viewer's session or pre-session, for the page's forms and
    /// scripts (`crate::csrf`); `None` for a viewer with neither.
    pub csrf: Option<CsrfToken>,
}

impl T {
    /// The CSRF token as forms and scripts send it; empty without one.
    pub fn csrf(&self) -> String {
        self.csrf.map(|t| t.encode()).unwrap_or_default()
    }
    /// The same viewer with this CSRF token (a page that starts a pre-session).
    pub fn with_csrf(self, token: CsrfToken) -> T {
        T {
            csrf: Some(token),
            ..self
        }
    }
    /// The text of `key` in the viewer's language.
    pub fn s<'a>(&self, key: &'a str) -> &'a str {
        let (zh, en) = tables();
        let table = if self.lang == Lang::En { en } else { zh };
        table.get(key).copied().unwrap_or(key)
    }
    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }
    pub fn html_lang(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
    pub fn other_html_lang(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "en",
            Lang::En => "zh-CN",
        }
    }
    /// The `lang` preference value that switches to the other language.
    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "en",
            Lang::En => "zh",
        }
    }
    /// A status badge (`valid`, `expiring`, `revoked`, ...).
    pub fn badge(&self, code: &str) -> String {
        self.s(&format!("badge_{code}")).to_owned()
    }
    /// An event kind.
    pub fn event(&self, kind: &str) -> String {
        self.s(&format!("event_{kind}")).to_owned()
    }
    /// The public category of a lifecycle action's reason (`court_order`, ...).
    pub fn reason(&self, category: &str) -> String {
        self.s(&format!("reason_{category}")).to_owned()
    }
    /// Who may see a license: `holder`, `enterprise`, `agent`.
    pub fn access(&self, kind: &str) -> String {
        self.s(&format!("access_{kind}")).to_owned()
    }
    /// The state of an authorization: `active`, `pending`, `ended`, `withdrawn`.
    pub fn agent_state(&self, state: &str) -> String {
        self.s(&format!("agents_state_{state}")).to_owned()
    }
    /// A moment as `YYYY-MM-DD HH:MM` China Standard Time.
    pub fn time(&self, unix: &i64) -> String {
        let t = time::OffsetDateTime::from_unix_timestamp(*unix)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
            .to_offset(time::UtcOffset::from_hms(8, 0, 0).expect("valid offset"));
        format!(
            "{} {:02}:{:02}",
            timeutil::format(t.date()),
            t.hour(),
            t.minute()
        )
    }
    /// The last day of a period that ends at `end` (the first moment after that day).
    pub fn last_day(&self, end: &i64) -> String {
        timeutil::format(timeutil::date_at(*end - 1))
    }
    /// The CST date of a moment.
    pub fn date(&self, unix: &i64) -> String {
        timeutil::format(timeutil::date_at(*unix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_kind_has_a_text() {
        let (zh, en) = tables();
        for k in elicense_core::EventKind::all() {
            let key = format!("event_{k}");
            assert!(zh.contains_key(&key) && en.contains_key(&key), "{key}");
        }
        for c in elicense_core::ReasonCategory::ALL {
            let key = format!("reason_{c}");
            assert!(zh.contains_key(&key) && en.contains_key(&key), "{key}");
        }
    }

    #[test]
    fn both_languages_have_the_same_keys() {
        let (zh, en) = tables();
        let mut a: Vec<_> = zh.keys().collect();
        let mut b: Vec<_> = en.keys().collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        let t = T {
            lang: Lang::En,
            large: false,
            csrf: None,
        };
        assert_eq!(t.s("verify_submit"), "Verify");
        assert_eq!(t.s("no_such_key"), "no_such_key");
        let z = T {
            lang: Lang::Zh,
            large: false,
            csrf: None,
        };
        assert_eq!(z.badge("revoked"), "撤销");
        assert_eq!(z.time(&0), "1970-01-01 08:00");
    }
}
