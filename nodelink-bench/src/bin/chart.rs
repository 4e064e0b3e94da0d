//! Draws the `sync` sweep as an SVG: p99 latency and server CPU against the number
//! of players, one line per server. Reads `loadgen` result lines (JSON Lines).
//!
//! `chart RESULTS.jsonl OUT.svg`

use std::collections::BTreeMap;
use std::fmt::Write;

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 420.0;
const PANEL: f64 = 400.0;
const MARGIN: f64 = 60.0;
const COLORS: [(&str, &str); 4] = [
    ("nodelink", "#1f77b4"),
    ("nodelink-json", "#9467bd"),
    ("limit", "#2ca02c"),
    ("python", "#d62728"),
];

/// One server's points: (players, value).
type Series = BTreeMap<String, Vec<(f64, f64)>>;

fn read(path: &str) -> Result<(Series, Series), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let (mut p99, mut cpu) = (Series::new(), Series::new());
    for line in text.lines().filter(|l| l.starts_with('{')) {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{path}: {e}"))?;
        if value["scenario"] != "sync" {
            continue;
        }
        let (Some(target), Some(players)) = (value["target"].as_str(), value["players"].as_f64())
        else {
            continue;
        };
        if let Some(latency) = value["latency_ms"]["p99"].as_f64() {
            p99.entry(target.to_owned())
                .or_default()
                .push((players, latency));
        }
        if let Some(percent) = value["server_cpu_percent"].as_f64() {
            cpu.entry(target.to_owned())
                .or_default()
                .push((players, percent));
        }
    }
    Ok((p99, cpu))
}

/// Draws one panel at horizontal offset `left`.
fn panel(svg: &mut String, left: f64, title: &str, unit: &str, series: &Series) {
    let max_x = series.values().flatten().map(|p| p.0).fold(1.0, f64::max);
    let max_y = series.values().flatten().map(|p| p.1).fold(1.0, f64::max) * 1.1;
    let (plot_w, plot_h) = (PANEL - MARGIN, HEIGHT - 2.0 * MARGIN);
    let x = |v: f64| left + MARGIN + v / max_x * plot_w;
    let y = |v: f64| HEIGHT - MARGIN - v / max_y * plot_h;
    let _ = write!(
        svg,
        r##"<text x="{}" y="30" font-size="16" text-anchor="middle">{title}</text>"##,
        left + MARGIN + plot_w / 2.0
    );
    let _ = write!(
        svg,
        r##"<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="#333"/><line x1="{0}" y1="{1}" x2="{0}" y2="{3}" stroke="#333"/>"##,
        x(0.0),
        y(0.0),
        x(max_x),
        y(max_y)
    );
    for step in 0..=4 {
        let (vx, vy) = (max_x * f64::from(step) / 4.0, max_y * f64::from(step) / 4.0);
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" font-size="11" text-anchor="middle">{vx:.0}</text><text x="{}" y="{}" font-size="11" text-anchor="end">{vy:.0}</text>"##,
            x(vx),
            y(0.0) + 16.0,
            x(0.0) - 6.0,
            y(vy) + 4.0
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{}" y="{}" font-size="12" text-anchor="middle">players</text><text x="{}" y="{}" font-size="12" text-anchor="middle" transform="rotate(-90 {} {})">{unit}</text>"##,
        x(max_x / 2.0),
        HEIGHT - 20.0,
        left + 15.0,
        HEIGHT / 2.0,
        left + 15.0,
        HEIGHT / 2.0
    );
    for (name, color) in COLORS {
        let Some(points) = series.get(name) else {
            continue;
        };
        let path: Vec<String> = points
            .iter()
            .map(|(px, py)| format!("{:.1},{:.1}", x(*px), y(*py)))
            .collect();
        let _ = write!(
            svg,
            r##"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"##,
            path.join(" ")
        );
        for (px, py) in points {
            let _ = write!(
                svg,
                r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"/>"##,
                x(*px),
                y(*py)
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: chart RESULTS.jsonl OUT.svg");
        std::process::exit(2);
    };
    let (p99, cpu) = match read(input) {
        Ok(series) => series,
        Err(error) => {
            eprintln!("chart: {error}");
            std::process::exit(1);
        }
    };
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>"##
    );
    panel(&mut svg, 0.0, "p99 latency, sync scenario", "ms", &p99);
    panel(
        &mut svg,
        PANEL + 80.0,
        "server CPU, sync scenario",
        "% of one core",
        &cpu,
    );
    for (i, (name, color)) in COLORS.iter().enumerate() {
        let top = 60.0 + 20.0 * i as f64;
        let _ = write!(
            svg,
            r##"<rect x="{}" y="{}" width="12" height="12" fill="{color}"/><text x="{}" y="{}" font-size="12">{name}</text>"##,
            WIDTH - 90.0,
            top,
            WIDTH - 72.0,
            top + 11.0
        );
    }
    svg.push_str("</svg>\n");
    if let Err(error) = std::fs::write(output, svg) {
        eprintln!("chart: {output}: {error}");
        std::process::exit(1);
    }
}
