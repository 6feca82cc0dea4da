//! A small, dependency-free passphrase strength estimator (zxcvbn's idea, a fraction of its size).
//!
//! The passphrase is covered, at minimum total cost, by patterns an attacker would try first:
//! words from a short embedded list of the most common passwords and words (also reversed, with
//! capitals or look-alike substitutions such as `@` for `a`), the vault's own name, alphabetical
//! or numeric sequences, repeats, keyboard walks, years and dates. Whatever no pattern explains is
//! counted per character: 3.3 bits for a lowercase letter in a run of letters (mostly words), 4.7
//! for an isolated lowercase letter or a capital, 3.3 for a digit and 5 for anything else. The sum estimates log2 of the guesses
//! needed.
//!
//! A stolen backup can be attacked offline, so the bar is set for that: a passphrase is acceptable
//! from 50 bits (about twelve random characters, or four unrelated words). Several ordinary words
//! pass; one word with a digit and a symbol does not.

/// The result of [`assess_passphrase`].
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Whether a vault may be created with this passphrase (`score >= 3`).
    pub acceptable: bool,
    /// 0 (trivial) to 4 (strong).
    pub score: u8,
    /// Estimated log2 of the number of guesses an attacker needs.
    pub bits: f64,
    /// Sentences to show the patient, most important first. Empty for a strong passphrase.
    pub feedback: Vec<String>,
}

/// Estimated bits at which a passphrase becomes acceptable.
pub const ACCEPTABLE_BITS: f64 = 50.0;
/// Passphrases are assessed on at most this many characters (the rest only adds strength).
const MAX_ASSESSED_CHARS: usize = 100;

/// Assesses a passphrase.
pub fn assess_passphrase(passphrase: &str) -> Assessment {
    assess_passphrase_with(passphrase, &[])
}

/// Assesses a passphrase, also treating the words of `context` (e.g. the vault's name) as the
/// first words an attacker would try.
pub fn assess_passphrase_with(passphrase: &str, context: &[&str]) -> Assessment {
    let chars: Vec<char> = passphrase.chars().take(MAX_ASSESSED_CHARS).collect();
    let context_words = context_words(context);
    let (bits, kinds) = estimate(&chars, &context_words);
    let score = match bits {
        b if b < 20.0 => 0,
        b if b < 35.0 => 1,
        b if b < ACCEPTABLE_BITS => 2,
        b if b < 70.0 => 3,
        _ => 4,
    };
    let acceptable = score >= 3;
    let mut feedback = Vec::new();
    if chars.is_empty() {
        feedback.push("Enter a passphrase.".to_owned());
    }
    for kind in [
        Kind::CommonPassword,
        Kind::Context,
        Kind::CommonWord,
        Kind::Keyboard,
        Kind::Sequence,
        Kind::Repeat,
        Kind::Date,
        Kind::Leet,
        Kind::Capitals,
    ] {
        if kinds.contains(&kind) && (!acceptable || kind == Kind::Context) {
            feedback.push(kind.advice().to_owned());
        }
    }
    if !acceptable && !chars.is_empty() {
        if chars.len() < 12 {
            feedback.push("Make it longer: at least 12 characters.".to_owned());
        }
        feedback.push(
            "Add another word or two. Four or more unrelated words make a strong passphrase \
             that is easy to remember."
                .to_owned(),
        );
    }
    Assessment {
        acceptable,
        score,
        bits,
        feedback,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    CommonPassword,
    CommonWord,
    Context,
    Keyboard,
    Sequence,
    Repeat,
    Date,
    Leet,
    Capitals,
    Brute,
}

impl Kind {
    fn advice(self) -> &'static str {
        match self {
            Kind::CommonPassword => "This contains one of the most common passwords.",
            Kind::CommonWord => "Common words and names are easy to guess on their own.",
            Kind::Context => "Do not use the vault's name in the passphrase.",
            Kind::Keyboard => "Avoid keyboard patterns like qwerty or asdf.",
            Kind::Sequence => "Avoid sequences like abc or 6543.",
            Kind::Repeat => "Avoid repeated characters and patterns like aaa or abcabc.",
            Kind::Date => "Avoid years and dates: they are easy to guess.",
            Kind::Leet => "Look-alike substitutions such as @ for a or 0 for o do not help much.",
            Kind::Capitals => "Capital letters help less than an extra word.",
            Kind::Brute => "",
        }
    }
}

/// One way to explain `chars[start..end]`.
struct Match {
    end: usize,
    bits: f64,
    kinds: Vec<Kind>,
}

/// Minimum-cost cover by dynamic programming. Returns the bits and the kinds of pattern used.
fn estimate(chars: &[char], context: &[String]) -> (f64, Vec<Kind>) {
    let n = chars.len();
    if n == 0 {
        return (0.0, Vec::new());
    }
    let lower: Vec<char> = chars
        .iter()
        .map(|c| c.to_lowercase().next().unwrap_or(*c))
        .collect();
    let brute: Vec<f64> = (0..n).map(|i| brute_bits(chars, i)).collect();
    // best[i] = (bits to explain chars[..i], kinds used, number of pieces)
    let mut best: Vec<Option<(f64, Vec<Kind>, usize)>> = vec![None; n + 1];
    best[0] = Some((0.0, Vec::new(), 0));
    for start in 0..n {
        let Some((base, base_kinds, pieces)) = best[start].clone() else {
            continue;
        };
        let mut matches = vec![Match {
            end: start + 1,
            bits: brute[start],
            kinds: vec![Kind::Brute],
        }];
        dictionary_matches(chars, &lower, start, context, &mut matches);
        sequence_match(&lower, start, &mut matches);
        repeat_matches(chars, &brute, start, &mut matches);
        keyboard_match(&lower, start, &mut matches);
        date_matches(chars, start, &mut matches);
        for m in matches {
            // Each extra piece costs a little: the attacker must also guess how pieces combine.
            let joined = if m.kinds == [Kind::Brute] { 0.0 } else { 1.0 };
            let total = base + m.bits + joined;
            let better = best[m.end].as_ref().is_none_or(|(b, _, _)| total < *b);
            if better {
                let mut kinds = base_kinds.clone();
                kinds.extend(m.kinds.iter().copied().filter(|k| *k != Kind::Brute));
                best[m.end] = Some((total, kinds, pieces + 1));
            }
        }
    }
    let (bits, kinds, _) = best[n].clone().expect("brute force always reaches the end");
    (bits, kinds)
}

/// Bits for guessing `chars[i]` by brute force. A lowercase letter next to another one is
/// probably part of a word and counts less than an isolated one.
fn brute_bits(chars: &[char], i: usize) -> f64 {
    let c = chars[i];
    let lower_at = |j: Option<usize>| {
        j.and_then(|j| chars.get(j))
            .is_some_and(char::is_ascii_lowercase)
    };
    if c.is_ascii_lowercase() {
        if lower_at(i.checked_sub(1)) || lower_at(Some(i + 1)) {
            3.3
        } else {
            4.7
        }
    } else if c.is_ascii_uppercase() {
        4.7
    } else if c.is_ascii_digit() {
        3.32
    } else {
        5.0
    }
}

/// Look-alike substitutions: (symbol, letters it may stand for).
const LEET: &[(char, &[char])] = &[
    ('0', &['o']),
    ('1', &['i', 'l']),
    ('3', &['e']),
    ('4', &['a']),
    ('@', &['a']),
    ('5', &['s']),
    ('$', &['s']),
    ('7', &['t']),
    ('!', &['i']),
    ('+', &['t']),
];

fn context_words(context: &[&str]) -> Vec<String> {
    let mut words = Vec::new();
    for text in context {
        for w in text.split(|c: char| !c.is_alphanumeric()) {
            let w = w.to_lowercase();
            if w.chars().count() >= 3 {
                words.push(w);
            }
        }
    }
    words
}

fn rank_of(word: &str, context: &[String]) -> Option<(usize, Kind)> {
    if context.iter().any(|c| c == word) {
        return Some((1, Kind::Context));
    }
    if let Some(i) = COMMON_PASSWORDS.iter().position(|w| *w == word) {
        return Some((i + 1, Kind::CommonPassword));
    }
    COMMON_WORDS
        .iter()
        .position(|w| *w == word)
        .map(|i| (COMMON_PASSWORDS.len() + i + 1, Kind::CommonWord))
}

fn dictionary_matches(
    chars: &[char],
    lower: &[char],
    start: usize,
    context: &[String],
    out: &mut Vec<Match>,
) {
    let max_len = 20.min(lower.len() - start);
    for len in 3..=max_len {
        let end = start + len;
        let original = &chars[start..end];
        let caps = original.iter().filter(|c| c.is_uppercase()).count();
        let caps_bits = if caps == 0 {
            0.0
        } else if caps == len || (caps == 1 && original[0].is_uppercase()) {
            1.0
        } else {
            caps as f64
        };
        // Plain and reversed, with look-alikes undone (each symbol tried as each letter).
        for (candidate, subs) in unleet_variants(&lower[start..end]) {
            for reversed in [false, true] {
                let word: String = if reversed {
                    candidate.iter().rev().collect()
                } else {
                    candidate.iter().collect()
                };
                if let Some((rank, kind)) = rank_of(&word, context) {
                    let mut kinds = vec![kind];
                    if subs > 0 {
                        kinds.push(Kind::Leet);
                    }
                    if caps > 0 {
                        kinds.push(Kind::Capitals);
                    }
                    out.push(Match {
                        end,
                        bits: (rank as f64).log2()
                            + caps_bits
                            + subs as f64
                            + if reversed { 1.0 } else { 0.0 },
                        kinds,
                    });
                }
            }
        }
    }
}

/// The candidate with every look-alike replaced, for each combination of readings (at most a few:
/// only `1` has two), with the number of substitutions.
fn unleet_variants(s: &[char]) -> Vec<(Vec<char>, usize)> {
    let mut variants = vec![(Vec::with_capacity(s.len()), 0usize)];
    for &c in s {
        match LEET.iter().find(|(sym, _)| *sym == c) {
            Some((_, letters)) if variants.len() * letters.len() <= 8 => {
                let mut next = Vec::new();
                for (v, subs) in &variants {
                    for &l in *letters {
                        let mut v = v.clone();
                        v.push(l);
                        next.push((v, subs + 1));
                    }
                }
                variants = next;
            }
            _ => {
                for (v, _) in &mut variants {
                    v.push(c);
                }
            }
        }
    }
    variants
}

fn sequence_match(lower: &[char], start: usize, out: &mut Vec<Match>) {
    let class = |c: char| {
        if c.is_ascii_lowercase() {
            Some(26.0)
        } else if c.is_ascii_digit() {
            Some(10.0)
        } else {
            None
        }
    };
    let Some(size) = class(lower[start]) else {
        return;
    };
    if start + 1 >= lower.len() {
        return;
    }
    let delta = lower[start + 1] as i32 - lower[start] as i32;
    if delta != 1 && delta != -1 {
        return;
    }
    let mut end = start + 1;
    while end < lower.len()
        && class(lower[end]) == Some(size)
        && lower[end] as i32 - lower[end - 1] as i32 == delta
    {
        end += 1;
    }
    for e in start + 3..=end {
        out.push(Match {
            end: e,
            bits: f64::log2(size) + ((e - start) as f64).log2() + if delta < 0 { 1.0 } else { 0.0 },
            kinds: vec![Kind::Sequence],
        });
    }
}

fn repeat_matches(chars: &[char], brute: &[f64], start: usize, out: &mut Vec<Match>) {
    let n = chars.len();
    for block in 1..=(n - start) / 2 {
        let unit = &chars[start..start + block];
        let mut count = 1;
        while start + (count + 1) * block <= n
            && &chars[start + count * block..start + (count + 1) * block] == unit
        {
            count += 1;
        }
        if count >= 2 && count * block >= 3 {
            let unit_bits: f64 = brute[start..start + block].iter().sum();
            for k in 2..=count {
                if k * block >= 3 {
                    out.push(Match {
                        end: start + k * block,
                        bits: unit_bits + (k as f64).log2(),
                        kinds: vec![Kind::Repeat],
                    });
                }
            }
        }
    }
}

/// Rows and columns of a US keyboard; neighbours in a string are adjacent keys.
const KEYBOARD_LINES: &[&str] = &[
    "`1234567890-=",
    "qwertyuiop[]\\",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "1qaz",
    "2wsx",
    "3edc",
    "4rfv",
    "5tgb",
    "6yhn",
    "7ujm",
    "8ik,",
    "9ol.",
    "0p;/",
    "qaz",
    "wsx",
    "edc",
    "rfv",
    "tgb",
    "yhn",
    "ujm",
];

fn adjacent(a: char, b: char) -> Option<(usize, i32)> {
    KEYBOARD_LINES.iter().enumerate().find_map(|(line, keys)| {
        let keys: Vec<char> = keys.chars().collect();
        let pa = keys.iter().position(|&k| k == a)?;
        let pb = keys.iter().position(|&k| k == b)?;
        let d = pb as i32 - pa as i32;
        (d == 1 || d == -1).then_some((line, d))
    })
}

fn keyboard_match(lower: &[char], start: usize, out: &mut Vec<Match>) {
    let mut end = start + 1;
    let mut turns = 0;
    let mut last: Option<(usize, i32)> = None;
    while end < lower.len() {
        let Some(step) = adjacent(lower[end - 1], lower[end]) else {
            break;
        };
        if last.is_some_and(|l| l != step) {
            turns += 1;
        }
        last = Some(step);
        end += 1;
        if end - start >= 4 {
            out.push(Match {
                end,
                bits: 5.6 + ((end - start) as f64).log2() + 2.0 * turns as f64,
                kinds: vec![Kind::Keyboard],
            });
        }
    }
}

fn date_matches(chars: &[char], start: usize, out: &mut Vec<Match>) {
    let digits: Vec<u32> = chars[start..]
        .iter()
        .take(8)
        .map_while(|c| c.to_digit(10))
        .collect();
    let num = |d: &[u32]| d.iter().fold(0, |n, x| n * 10 + x);
    let year = |y: u32| (1900..=2039).contains(&y);
    let md = |m: u32, d: u32| (1..=12).contains(&m) && (1..=31).contains(&d);
    if digits.len() >= 4 && year(num(&digits[..4])) {
        out.push(Match {
            end: start + 4,
            bits: 7.2,
            kinds: vec![Kind::Date],
        });
    }
    if digits.len() >= 6 {
        let d = &digits[..6];
        let (a, b, c) = (num(&d[0..2]), num(&d[2..4]), num(&d[4..6]));
        if md(a, b) || md(b, a) || md(b, c) {
            out.push(Match {
                end: start + 6,
                bits: 15.2,
                kinds: vec![Kind::Date],
            });
        }
    }
    if digits.len() >= 8 {
        let d = &digits[..8];
        let ymd = year(num(&d[0..4])) && md(num(&d[4..6]), num(&d[6..8]));
        let dmy = year(num(&d[4..8]))
            && (md(num(&d[2..4]), num(&d[0..2])) || md(num(&d[0..2]), num(&d[2..4])));
        if ymd || dmy {
            out.push(Match {
                end: start + 8,
                bits: 15.2,
                kinds: vec![Kind::Date],
            });
        }
    }
}

/// The most common passwords, most common first (from public breach-corpus rankings).
const COMMON_PASSWORDS: &[&str] = &[
    "123456",
    "password",
    "123456789",
    "12345678",
    "12345",
    "qwerty",
    "1234567",
    "111111",
    "1234567890",
    "123123",
    "abc123",
    "1234",
    "password1",
    "iloveyou",
    "1q2w3e4r",
    "000000",
    "qwerty123",
    "zaq12wsx",
    "dragon",
    "sunshine",
    "princess",
    "letmein",
    "654321",
    "monkey",
    "27653",
    "1qaz2wsx",
    "123321",
    "qwertyuiop",
    "superman",
    "asdfghjkl",
    "trustno1",
    "football",
    "baseball",
    "welcome",
    "shadow",
    "master",
    "michael",
    "jennifer",
    "hunter",
    "freedom",
    "whatever",
    "starwars",
    "passw0rd",
    "charlie",
    "donald",
    "login",
    "admin",
    "solo",
    "flower",
    "hottie",
    "loveme",
    "ninja",
    "mustang",
    "access",
    "batman",
    "azerty",
    "666666",
    "121212",
    "qazwsx",
    "555555",
    "lovely",
    "7777777",
    "888888",
    "123qwe",
    "killer",
    "jordan",
    "hello",
    "secret",
    "summer",
    "winter",
    "spring",
    "autumn",
    "cheese",
    "computer",
    "internet",
    "pepper",
    "ginger",
    "buster",
    "soccer",
    "hockey",
    "tigger",
    "matrix",
    "harley",
    "ranger",
    "daniel",
    "andrew",
    "thomas",
    "robert",
    "joshua",
    "michelle",
    "jessica",
    "ashley",
    "amanda",
    "nicole",
    "pokemon",
    "chocolate",
    "butterfly",
    "purple",
    "orange",
    "banana",
    "maggie",
    "silver",
    "golden",
    "diamond",
    "angel",
    "blink182",
    "samsung",
    "google",
    "apple",
    "iphone",
    "changeme",
    "default",
    "guest",
    "test",
    "temp",
    "pass",
    "root",
    "toor",
    "qwer",
    "asdf",
    "zxcv",
    "zxcvbnm",
    "asdfgh",
    "qwe",
    "abc",
    "abcd",
    "abcdef",
    "iloveu",
    "forever",
    "family",
    "friends",
    "lovelove",
    "babygirl",
    "sweetheart",
    "liverpool",
    "arsenal",
    "chelsea",
    "mypassword",
    "yourpassword",
    "nopassword",
    "passpass",
    "p4ssword",
];

/// Common words and names that people build passwords from (after the passwords in rank).
const COMMON_WORDS: &[&str] = &[
    "love",
    "life",
    "baby",
    "girl",
    "boy",
    "god",
    "jesus",
    "money",
    "happy",
    "house",
    "home",
    "family",
    "friend",
    "heart",
    "star",
    "sun",
    "moon",
    "king",
    "queen",
    "prince",
    "magic",
    "music",
    "rock",
    "dance",
    "party",
    "cool",
    "crazy",
    "sexy",
    "hot",
    "sweet",
    "honey",
    "sugar",
    "candy",
    "cookie",
    "kitty",
    "puppy",
    "dog",
    "cat",
    "tiger",
    "lion",
    "bear",
    "wolf",
    "eagle",
    "horse",
    "fish",
    "bird",
    "blue",
    "red",
    "green",
    "black",
    "white",
    "pink",
    "yellow",
    "gold",
    "fire",
    "water",
    "earth",
    "wind",
    "rain",
    "snow",
    "ice",
    "storm",
    "sky",
    "ocean",
    "sea",
    "beach",
    "summer",
    "world",
    "hello",
    "welcome",
    "mother",
    "father",
    "sister",
    "brother",
    "mom",
    "dad",
    "mama",
    "papa",
    "john",
    "david",
    "james",
    "mary",
    "anna",
    "maria",
    "sarah",
    "chris",
    "mike",
    "alex",
    "sam",
    "max",
    "ben",
    "tom",
    "lisa",
    "emma",
    "sophie",
    "lucy",
    "health",
    "doctor",
    "nurse",
    "hospital",
    "medical",
    "patient",
    "record",
    "records",
    "vault",
    "secure",
    "safe",
    "private",
    "my",
    "the",
    "and",
    "you",
    "one",
    "two",
    "three",
    "correct",
    "horse",
    "battery",
    "staple",
    "open",
    "sesame",
    "monday",
    "friday",
    "sunday",
    "january",
    "december",
    "christmas",
    "birthday",
    "london",
    "paris",
    "berlin",
    "america",
    "england",
    "france",
    "germany",
    "india",
    "china",
    "canada",
    "texas",
    "florida",
    "california",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn assess(p: &str) -> Assessment {
        assess_passphrase(p)
    }

    #[test]
    fn obviously_weak_passphrases_are_refused() {
        for weak in [
            "",
            "a",
            "password",
            "Password1",
            "P@ssw0rd!",
            "p4ssw0rd",
            "drowssap",
            "iloveyou",
            "123456789012",
            "qwertyuiop",
            "1qaz2wsx3edc",
            "aaaaaaaaaaaaaaaa",
            "abcabcabcabc",
            "abcdefghijklmnop",
            "Summer2024!",
            "19850612",
            "monkeydragon",
            "letmein123",
            "Tr0ub4dor",
            "xK9#mP2$",
        ] {
            let a = assess(weak);
            assert!(!a.acceptable, "{weak:?} accepted with {:.1} bits", a.bits);
            assert!(a.score <= 2, "{weak:?}");
            assert!(!a.feedback.is_empty(), "{weak:?} has no feedback");
        }
    }

    #[test]
    fn passphrases_of_several_words_and_long_random_strings_are_accepted() {
        for strong in [
            "correct horse battery staple",
            "purple elephant juggles quietly",
            "my granddaughter plants tulips every april",
            "x7#Kp2$mQ9zLw4",
            "xK9#mP2$vL7q",
            "GlassCanyonRiverMapleWhistle",
            "vq3-tz8-pxw-m2r-kj5",
        ] {
            let a = assess(strong);
            assert!(a.acceptable, "{strong:?} refused with {:.1} bits", a.bits);
            assert!(a.score >= 3, "{strong:?}");
        }
        assert_eq!(
            assess("correct horse battery staple").feedback,
            Vec::<String>::new()
        );
    }

    #[test]
    fn feedback_names_the_pattern() {
        let has = |p: &str, needle: &str| {
            let a = assess(p);
            assert!(
                a.feedback.iter().any(|f| f.contains(needle)),
                "{p:?}: {:?}",
                a.feedback
            );
        };
        has("sdfghjkl", "keyboard");
        has("ytrewqasdfg", "keyboard");
        has("abcdefgh", "sequences");
        has("zzzzzzzzzz", "repeated");
        has("password", "most common");
        has("P@ssw0rd", "Look-alike");
        has("1987", "dates");
        has("short", "at least 12");
    }

    #[test]
    fn the_vault_name_counts_against_the_passphrase() {
        let without = assess_passphrase_with("grimsby harbour", &[]);
        let with = assess_passphrase_with("grimsby harbour", &["Grimsby Harbour"]);
        assert!(
            with.bits < without.bits - 20.0,
            "{} vs {}",
            with.bits,
            without.bits
        );
        assert!(with.feedback.iter().any(|f| f.contains("vault's name")));
    }

    #[test]
    fn scores_are_monotonic_in_added_words() {
        let mut last = 0.0;
        for p in [
            "orange",
            "orange tractor",
            "orange tractor violin",
            "orange tractor violin moss",
        ] {
            let a = assess(p);
            assert!(a.bits > last, "{p}");
            last = a.bits;
        }
    }

    #[test]
    fn very_long_input_is_bounded() {
        let long = "x".repeat(100_000);
        let a = assess(&long);
        assert!(a.bits.is_finite());
    }
}
