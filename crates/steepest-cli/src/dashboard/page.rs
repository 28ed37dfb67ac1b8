//! The dashboard page: one HTML document with its styles, script and the chart library
//! (uPlot 1.6.32, MIT, vendored in `assets/uplot` with its licence) inline, so that the same
//! page serves from the dashboard and opens from disk as a report.

use serde_json::Value;

const UPLOT_JS: &str = include_str!("../../assets/uplot/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../../assets/uplot/uPlot.min.css");
const UPLOT_LICENSE: &str = include_str!("../../assets/uplot/LICENSE");
const APP_JS: &str = include_str!("../../assets/dashboard/app.js");
const APP_CSS: &str = include_str!("../../assets/dashboard/app.css");
const BODY: &str = include_str!("../../assets/dashboard/body.html");

/// JSON that is safe inside a `<script>` element: every `<` is written as `\u003c` (it can
/// only occur inside strings), so no `</script>` or `<!--` can end or bend the element.
fn script_json(v: &Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// The page. With `data` (a report: `{root, generated, runs: [run details]}`) it shows that
/// data and fetches nothing; without it, it reads the dashboard's API and follows it live.
pub fn html(data: Option<&Value>) -> String {
    let data = data.map_or_else(|| "null".to_string(), script_json);
    let title = match data.as_str() {
        "null" => "Steepest dashboard",
        _ => "Steepest report",
    };
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n{UPLOT_CSS}\n{APP_CSS}\n</style>\n</head>\n<body>\n{BODY}\n\
         <script>\n/*\nuPlot 1.6.32 (https://github.com/leeoniya/uPlot)\n{UPLOT_LICENSE}*/\n{UPLOT_JS}\n</script>\n\
         <script>window.STEEPEST_DATA = {data};</script>\n<script>\n{APP_JS}\n</script>\n</body>\n</html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_cannot_close_the_script_element() {
        let v = serde_json::json!({"runs": [{"id": "</script><script>alert(1)</script>"}]});
        let page = html(Some(&v));
        let start = page.find("window.STEEPEST_DATA").unwrap();
        let tail = &page[start..];
        let end = tail.find("</script>").unwrap();
        assert!(!tail[..end].contains('<'), "{}", &tail[..end]);
        // The data still parses back to the same value.
        let json = tail[..end]
            .trim_start_matches("window.STEEPEST_DATA = ")
            .trim_end()
            .trim_end_matches(';');
        assert_eq!(serde_json::from_str::<Value>(json).unwrap(), v);
    }
}
