//! Themes: TOML files whose fields are all optional, layered over the embedded default and resolved
//! into a `Theme` with semantic accessors, so widgets never name a colour.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::{Deserialize, Deserializer};

use crate::config::{ConfigError, Source, closest, layered};

/// The shipped themes, embedded so `--theme NAME` works from any directory.
pub const BUILTIN: [(&str, &str); 4] = [
    ("default", include_str!("../../../themes/default.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    ("high-contrast", include_str!("../../../themes/high-contrast.toml")),
    ("gruvbox", include_str!("../../../themes/gruvbox.toml")),
];

const COLOR_NAMES: [&str; 17] = [
    "reset",
    "black",
    "red",
    "green",
    "yellow",
    "blue",
    "magenta",
    "cyan",
    "gray",
    "dark_gray",
    "light_red",
    "light_green",
    "light_yellow",
    "light_blue",
    "light_magenta",
    "light_cyan",
    "white",
];

/// A colour as written in a theme file.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ThemeColor(Color);

impl<'de> Deserialize<'de> for ThemeColor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_color(&s).map(ThemeColor).map_err(serde::de::Error::custom)
    }
}

/// Parses a colour name, `#rrggbb` or a 256-colour index; an unknown name suggests the closest.
pub fn parse_color(s: &str) -> Result<Color, String> {
    if let Ok(c) = Color::from_str(s.trim()) {
        return Ok(c);
    }
    let wanted = s.trim().to_lowercase().replace([' ', '-'], "_");
    Err(match closest(&wanted, COLOR_NAMES) {
        Some(n) => format!("unknown colour {s:?}; did you mean {n:?}?"),
        None => {
            format!("unknown colour {s:?}; use a name such as \"light_red\", \"#rrggbb\" or an index \"0\"..\"255\"")
        }
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    text: TextColors,
    background: Background,
    heat: HeatColors,
    status: StatusColors,
    border: BorderColors,
    selection: SelectionColors,
    tiers: TierColors,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextColors {
    normal: ThemeColor,
    dim: ThemeColor,
    title: ThemeColor,
    accent: ThemeColor,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Background {
    color: ThemeColor,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeatColors {
    hot: ThemeColor,
    warm: ThemeColor,
    cold: ThemeColor,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusColors {
    ok: ThemeColor,
    warn: ThemeColor,
    error: ThemeColor,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BorderColors {
    focused: ThemeColor,
    unfocused: ThemeColor,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SelectionColors {
    fg: ThemeColor,
    bg: ThemeColor,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TierColors {
    colors: Vec<ThemeColor>,
}

/// A resolved theme. Widgets ask it for meanings (hot, border of a focused pane), never colours.
#[derive(Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    normal: Color,
    dim: Color,
    title: Color,
    accent: Color,
    background: Color,
    hot: Color,
    warm: Color,
    cold: Color,
    ok: Color,
    warn: Color,
    error: Color,
    focused: Color,
    unfocused: Color,
    selection_fg: Color,
    selection_bg: Color,
    tiers: Vec<Color>,
}

impl fmt::Debug for Theme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Theme({})", self.name)
    }
}

impl Theme {
    /// A built-in theme by name, or a theme file by path, layered over the default theme.
    pub fn load(spec: &str) -> Result<Theme, Box<ConfigError>> {
        if let Some((name, text)) = BUILTIN.iter().find(|(n, _)| *n == spec) {
            return Self::from_toml(name, &format!("<built-in theme {name}>"), text);
        }
        let path = Path::new(spec);
        if path.exists() || spec.ends_with(".toml") || spec.contains('/') {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Box::new(ConfigError {
                    file: spec.to_string(),
                    line: None,
                    column: None,
                    key: None,
                    message: format!("cannot read the theme file: {e}"),
                    help: "check the path given to --theme or ui.theme".into(),
                })
            })?;
            let name = path
                .file_stem()
                .map_or(spec.to_string(), |s| s.to_string_lossy().into_owned());
            return Self::from_toml(&name, spec, &text);
        }
        let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        let near = closest(spec, names.iter().copied())
            .map(|n| format!("did you mean {n:?}? "))
            .unwrap_or_default();
        Err(Box::new(ConfigError {
            file: "--theme".into(),
            line: None,
            column: None,
            key: None,
            message: format!("no theme named {spec:?}"),
            help: format!(
                "{near}built-in themes: {}; or give the path of a .toml theme file",
                names.join(", ")
            ),
        }))
    }

    /// Parses `text` (from `file`) layered over the default theme.
    pub fn from_toml(name: &str, file: &str, text: &str) -> Result<Theme, Box<ConfigError>> {
        let source = Source {
            file: file.to_string(),
            text,
        };
        let t: ThemeFile = layered(BUILTIN[0].1, "themes/default.toml", &source)?;
        if t.tiers.colors.is_empty() {
            return Err(Box::new(source.error_at(
                "tiers.colors",
                "needs at least one colour".into(),
                "list one colour per tier, e.g. colors = [\"red\", \"yellow\", \"blue\"]".into(),
            )));
        }
        Ok(Theme {
            name: name.to_string(),
            normal: t.text.normal.0,
            dim: t.text.dim.0,
            title: t.text.title.0,
            accent: t.text.accent.0,
            background: t.background.color.0,
            hot: t.heat.hot.0,
            warm: t.heat.warm.0,
            cold: t.heat.cold.0,
            ok: t.status.ok.0,
            warn: t.status.warn.0,
            error: t.status.error.0,
            focused: t.border.focused.0,
            unfocused: t.border.unfocused.0,
            selection_fg: t.selection.fg.0,
            selection_bg: t.selection.bg.0,
            tiers: t.tiers.colors.into_iter().map(|c| c.0).collect(),
        })
    }

    /// Every built-in theme, in cycling order.
    pub fn builtins() -> Vec<Theme> {
        BUILTIN
            .iter()
            .filter_map(|(n, text)| Self::from_toml(n, n, text).ok())
            .collect()
    }

    /// The whole screen's base: text colour on the background.
    pub fn base(&self) -> Style {
        Style::new().fg(self.normal).bg(self.background)
    }
    pub fn text(&self) -> Style {
        Style::new().fg(self.normal)
    }
    pub fn dim(&self) -> Style {
        Style::new().fg(self.dim)
    }
    pub fn title(&self) -> Style {
        Style::new().fg(self.title).add_modifier(Modifier::BOLD)
    }
    pub fn accent(&self) -> Style {
        Style::new().fg(self.accent)
    }
    pub fn header_row(&self) -> Style {
        Style::new().fg(self.accent).add_modifier(Modifier::BOLD)
    }
    pub fn hot(&self) -> Style {
        Style::new().fg(self.hot)
    }
    pub fn warm(&self) -> Style {
        Style::new().fg(self.warm)
    }
    pub fn cold(&self) -> Style {
        Style::new().fg(self.cold)
    }
    /// Heat of a p_hot: hot at or above `threshold`, warm above half of it, else cold.
    pub fn heat(&self, p: f64, threshold: f64) -> Style {
        if p >= threshold {
            self.hot()
        } else if p >= threshold / 2.0 {
            self.warm()
        } else {
            self.cold()
        }
    }
    pub fn ok(&self) -> Style {
        Style::new().fg(self.ok)
    }
    pub fn warn(&self) -> Style {
        Style::new().fg(self.warn)
    }
    pub fn error(&self) -> Style {
        Style::new().fg(self.error).add_modifier(Modifier::BOLD)
    }
    pub fn border(&self, focused: bool) -> Style {
        if focused {
            Style::new().fg(self.focused).add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(self.unfocused)
        }
    }
    pub fn selection(&self) -> Style {
        Style::new().fg(self.selection_fg).bg(self.selection_bg)
    }
    /// The colour of the `i`-th configured tier.
    pub fn tier(&self, i: usize) -> Style {
        Style::new().fg(self.tier_color(i))
    }
    pub fn tier_color(&self, i: usize) -> Color {
        self.tiers[i % self.tiers.len()]
    }
}
