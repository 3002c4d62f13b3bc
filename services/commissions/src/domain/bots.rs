//! Known bots and link previewers: redirected like anyone, never counted
//! for attribution. The list is ours: the crawlers of the big search
//! engines, the link-preview fetchers of the chat and social apps (a link
//! pasted into Slack is fetched before anyone clicks it), monitoring
//! services, and command-line and library HTTP clients, matched as
//! case-insensitive substrings of the User-Agent. An empty User-Agent is a
//! bot: browsers always send one.

/// Lower-case substrings of a bot's User-Agent.
pub const BOT_SIGNATURES: &[&str] = &[
    // Generic words crawlers put in their names.
    "bot",
    "crawler",
    "spider",
    "slurp",
    "preview",
    "headless",
    // Link previewers that do not say "bot".
    "facebookexternalhit",
    "facebookcatalog",
    "whatsapp",
    "skypeuripreview",
    "embedly",
    "vkshare",
    "pinterest",
    "quora link preview",
    "bitlybot",
    "outbrain",
    "nuzzel",
    "flipboard",
    "tumblr",
    "iframely",
    // Monitoring and fetch tools.
    "pingdom",
    "uptimerobot",
    "statuscake",
    "lighthouse",
    "python-requests",
    "python-urllib",
    "go-http-client",
    "java/",
    "okhttp",
    "wget",
    "libwww-perl",
    "httpclient",
    "scrapy",
    "node-fetch",
    "axios/",
];

/// Whether a User-Agent is a known bot or link previewer.
pub fn is_bot(user_agent: &str) -> bool {
    let ua = user_agent.trim().to_ascii_lowercase();
    ua.is_empty() || BOT_SIGNATURES.iter().any(|s| ua.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_count_and_bots_do_not() {
        assert!(!is_bot(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
        ));
        assert!(!is_bot(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
        ));
        assert!(!is_bot("curl/8.5.0"));
        for ua in [
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Twitterbot/1.0",
            "WhatsApp/2.23.20.0",
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            "python-requests/2.31.0",
            "",
            "   ",
        ] {
            assert!(is_bot(ua), "{ua:?} is a bot");
        }
    }
}
