// Package traffic classifies a visit by where it came from: search, social,
// paid, email, direct or referral, from a built-in table of click ids,
// campaign mediums and referring hosts. It knows nothing of HTTP: the
// caller gives it the referring host, the UTM parameters and whether the
// landing URL carried a click id.
//
// The classes, in the order Classify tries them:
//
//   - paid: the landing URL has a click id (ClickIDs: gclid, gclsrc,
//     gbraid, wbraid, dclid for Google's ads, msclkid for Microsoft's,
//     fbclid for Meta's, ttclid TikTok's, twclid X's, li_fat_id
//     LinkedIn's, epik Pinterest's, ScCid Snapchat's, rdt_cid Reddit's,
//     yclid Yandex's), or utm_medium is cpc, ppc, cpm, cpv, cpa, display,
//     banner, retargeting, remarketing, or starts with "paid" (paid,
//     paidsearch, paid_search, paid-social, ...). Meta adds fbclid to
//     every link followed out of Facebook or Instagram, ads or not: a
//     shared post counts as paid too.
//   - email: utm_medium is email, e-mail, e_mail, "e mail", mail or
//     newsletter, or the referrer is a webmail (mail.google.com, Gmail's
//     Android app, outlook.live.com, outlook.office.com,
//     outlook.office365.com, mail.yahoo.*, mail.aol.com, mail.proton.me,
//     mail.yandex.*, gmx.*, web.de, e.mail.ru, email.seznam.cz, ...).
//   - social: utm_medium is social, social-network, social-media, sm,
//     "social network" or "social media", or the referrer is a social
//     network (facebook.com, fb.com, instagram.com, t.co, x.com,
//     twitter.com, linkedin.com, lnkd.in, pinterest.*, pin.it,
//     reddit.com, tiktok.com, youtube.com, youtu.be, threads.net,
//     snapchat.com, tumblr.com, vk.com, bsky.app, mastodon.social,
//     whatsapp.com, telegram.org, t.me, ...), or utm_source names one
//     (facebook, fb, instagram, ig, twitter, x, linkedin, pinterest,
//     reddit, tiktok, youtube, threads, ...).
//   - search: utm_medium is organic, or the referrer is a search engine
//     (google.*, bing.com, duckduckgo.com, yahoo.*, baidu.com, yandex.*,
//     ecosia.org, qwant.com, startpage.com, search.brave.com,
//     naver.com, seznam.cz, ask.com, aol.com, so.com, sogou.com,
//     daum.net, kagi.com, Google's Android search app, ...), or
//     utm_source names one (google, bing, duckduckgo, yahoo, ...).
//   - referral: any other referring host, or a campaign (utm_source)
//     none of the above explains.
//   - direct: no referrer and no campaign.
//
// A host matches a table entry when it is the entry or a subdomain of it
// (www.facebook.com, m.facebook.com); an entry "name.*" matches name under
// any country or generic ending of one or two labels (google.de,
// google.co.uk, www.google.com.br).
//
// Files:
//   - traffic.go: Class, Classify and the table.
package traffic
