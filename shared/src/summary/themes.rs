//! Shared themes ("rode lijnen"): words and two-word phrases that recur in the notes of two
//! or more origins of the day: tables, market stands, the lecture board.
//!
//! A note's text is cut into words (Unicode letters and digits, so `één` and `café` stay
//! whole), lowercased, and stripped of Dutch and English stop words, words shorter than
//! three characters and pure numbers. Words are then grouped under a *merge key* that folds
//! common plural and inflected forms together (see [`merge_key`]); a theme is shown in the
//! spelling its notes use most. Two adjacent remaining words form a phrase, unless a stop
//! word, a dropped word or punctuation stood between them.
//!
//! The work is linear in the words read: each merge key is interned once, words and
//! phrases are counted in hash maps, and a single word is compared only with the shared
//! phrases that contain it. A note contributes at most [`WORDS_PER_NOTE`] distinct words
//! from its first [`WORDS_READ_PER_NOTE`] words, so one pasted book costs what a long note
//! costs; a sticky note stays far below both.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use serde::Serialize;

use crate::event::TableId;

/// How many themes a summary lists at most.
pub const THEME_LIMIT: usize = 20;

/// How many distinct words (merge keys) one note contributes at most: its first ones.
pub const WORDS_PER_NOTE: usize = 256;

/// How many words of a note are read at most, kept or dropped.
pub const WORDS_READ_PER_NOTE: usize = 2_000;

/// Where a note of the day comes from: a table, a market stand or the lecture board.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Origin {
    Table { id: TableId },
    Stand { team: u32 },
    Lecture,
}

/// A word or phrase that notes of at least two origins (tables, stands, the lecture) mention:
/// one of the day's "rode lijnen".
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Theme {
    /// The word or phrase, lowercased, in the spelling its notes use most.
    pub term: String,
    /// The tables among [`Theme::origins`], in summary order.
    pub tables: Vec<TableId>,
    /// Everywhere it came from, in summary order: tables, then stands, then the lecture.
    pub origins: Vec<Origin>,
    /// Every note, tip or insight that mentions it, in summary order.
    pub notes: Vec<NoteRef>,
    /// The number of notes that mention it (`notes.len()`).
    pub count: usize,
}

/// A note of a table, a tip of a stand or an insight of the lecture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteRef {
    pub origin: Origin,
    pub note_id: String,
}

impl Origin {
    /// "Tafel A", "Markt OT 2", "Lezing": how the werkboek names where a theme came from.
    pub fn label(&self) -> String {
        match self {
            Origin::Table { id } => format!("Tafel {}", id.as_str().to_uppercase()),
            Origin::Stand { team } => format!("Markt OT {team}"),
            Origin::Lecture => "Lezing".to_string(),
        }
    }
}

/// Finds the themes in `notes` (each with its origin, its id and its text), ranked by the
/// number of origins that mention them, then the number of notes, then phrases before
/// single words, then alphabetically; at most [`THEME_LIMIT`].
///
/// A single word is left out when a shared phrase containing it is mentioned by exactly the
/// same notes: "openbare ruimte" then says all that "ruimte" would.
pub fn find_themes<'a>(
    notes: impl IntoIterator<Item = (&'a Origin, &'a str, &'a str)>,
) -> Vec<Theme> {
    let mut words = WordIds::default();
    let mut terms: HashMap<TermKey, TermStats> = HashMap::new();
    for (origin, id, text) in notes {
        let mut seen = HashSet::new();
        for term in note_terms(text, &mut words) {
            let stats = terms.entry(term.key).or_default();
            // A repeat within the note still lets its spelling count.
            *stats.spellings.entry(term.spelling).or_default() += 1;
            if !seen.insert(term.key) {
                continue;
            }
            if !stats.origins.contains(origin) {
                stats.origins.push(origin.clone());
            }
            stats.notes.push(NoteRef {
                origin: origin.clone(),
                note_id: id.to_string(),
            });
        }
    }

    let shared: Vec<(TermKey, TermStats)> = terms
        .into_iter()
        .filter(|(_, stats)| stats.origins.len() >= 2)
        .collect();
    // Each word's shared phrases, so a word is compared with those only.
    let mut phrases_with: HashMap<WordId, Vec<usize>> = HashMap::new();
    for (i, (key, _)) in shared.iter().enumerate() {
        if let TermKey::Phrase(a, b) = *key {
            phrases_with.entry(a).or_default().push(i);
            if b != a {
                phrases_with.entry(b).or_default().push(i);
            }
        }
    }
    let said_by_a_phrase = |key: &TermKey, stats: &TermStats| match key {
        TermKey::Word(word) => phrases_with.get(word).is_some_and(|phrases| {
            phrases
                .iter()
                .any(|&phrase| shared[phrase].1.notes == stats.notes)
        }),
        TermKey::Phrase(..) => false,
    };
    let mut ranked: Vec<(String, &TermKey, &TermStats)> = shared
        .iter()
        .filter(|(key, stats)| !said_by_a_phrase(key, stats))
        .map(|(key, stats)| (stats.spelling(), key, stats))
        .collect();
    let order = |(a_spelling, a_key, a): &(String, &TermKey, &TermStats),
                 (b_spelling, b_key, b): &(String, &TermKey, &TermStats)| {
        b.origins
            .len()
            .cmp(&a.origins.len())
            .then(b.notes.len().cmp(&a.notes.len()))
            .then(b_key.words().cmp(&a_key.words()))
            .then_with(|| a_spelling.cmp(b_spelling))
    };
    // Only the first few are listed: put them in front, then sort just those.
    if ranked.len() > THEME_LIMIT {
        ranked.select_nth_unstable_by(THEME_LIMIT - 1, order);
        ranked.truncate(THEME_LIMIT);
    }
    ranked.sort_by(order);
    ranked
        .into_iter()
        .map(|(term, _, stats)| Theme {
            term,
            count: stats.notes.len(),
            tables: stats
                .origins
                .iter()
                .filter_map(|origin| match origin {
                    Origin::Table { id } => Some(id.clone()),
                    _ => None,
                })
                .collect(),
            origins: stats.origins.clone(),
            notes: stats.notes.clone(),
        })
        .collect()
}

/// The key under which a lowercased word is grouped, so that singular and plural (and some
/// inflected adjectives) meet. The rules, in order:
///
/// 1. `'s` / `’s` is dropped (`auto's` → `auto`); otherwise
/// 2. `-en` is dropped, then a final `v` becomes `f` and `z` becomes `s`
///    (`kansen` → `kans`, `initiatieven` → `initiatief`, `huizen` → `huis`); otherwise
/// 3. `-s` after `e`, `r`, `l` or `m` is dropped (`ruimtes`, `bewoners`, `doels`, `systems`).
/// 4. A final `e` is dropped (`gemeente` and `gemeenten` both become `gemeent`).
/// 5. A final doubled consonant is made single (`plannen` → `plann` → `plan`).
/// 6. A doubled vowel before the last consonant is made single (`straat` and `straten`
///    both become `strat`, `groot` and `grote` both `grot`).
///
/// Every step keeps at least three characters. The key is never shown; a theme shows the
/// spelling its notes use most.
///
/// Limits, knowingly accepted for a rule without a dictionary: irregular plurals do not
/// meet (`stad`/`steden`, `idee`/`ideeën`, English `-ies`); a verb and a noun can meet
/// (`wet` and `weten`); English `-s` after other consonants is kept (`steps` ≠ `step`), as is
/// Dutch `-s` after `n` because `kans` is not a plural.
pub fn merge_key(word: &str) -> String {
    let mut key: Vec<char> = word.chars().collect();
    let ends_with = |key: &[char], suffix: &str| {
        let suffix: Vec<char> = suffix.chars().collect();
        key.len() >= suffix.len() + 3 && key.ends_with(&suffix)
    };

    if ends_with(&key, "'s") || ends_with(&key, "’s") {
        key.truncate(key.len() - 2);
    } else if ends_with(&key, "en") {
        key.truncate(key.len() - 2);
        match key.last() {
            Some('v') => *key.last_mut().expect("not empty") = 'f',
            Some('z') => *key.last_mut().expect("not empty") = 's',
            _ => {}
        }
    } else if ends_with(&key, "s") && matches!(key[key.len() - 2], 'e' | 'r' | 'l' | 'm') {
        key.pop();
    }
    if ends_with(&key, "e") {
        key.pop();
    }
    let n = key.len();
    if n >= 4 && key[n - 1] == key[n - 2] && is_consonant(key[n - 1]) {
        key.pop();
    }
    let n = key.len();
    if n >= 4
        && is_consonant(key[n - 1])
        && key[n - 2] == key[n - 3]
        && matches!(key[n - 2], 'a' | 'e' | 'o' | 'u')
    {
        key.remove(n - 2);
    }
    key.into_iter().collect()
}

/// Whether a lowercased word is a Dutch or English stop word.
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(word)
}

/// Dutch stop words: the Snowball list plus pronouns, auxiliaries and fillers that notes
/// of a workshop use without saying anything ("we moeten goed kijken").
const DUTCH_STOP_WORDS: &[&str] = &[
    "aan",
    "al",
    "alle",
    "alles",
    "als",
    "altijd",
    "ander",
    "andere",
    "anders",
    "ben",
    "bij",
    "blijft",
    "blijven",
    "daar",
    "dan",
    "dat",
    "de",
    "deze",
    "die",
    "dit",
    "doch",
    "doen",
    "door",
    "dus",
    "echt",
    "een",
    "eens",
    "elk",
    "elke",
    "en",
    "er",
    "erg",
    "ge",
    "gaan",
    "gaat",
    "geen",
    "geweest",
    "goed",
    "haar",
    "had",
    "heb",
    "hebben",
    "heeft",
    "heel",
    "hem",
    "het",
    "hier",
    "hij",
    "hoe",
    "hun",
    "iemand",
    "iets",
    "ik",
    "in",
    "is",
    "ja",
    "je",
    "jij",
    "jou",
    "jouw",
    "jullie",
    "kan",
    "komen",
    "komt",
    "kon",
    "kunnen",
    "laten",
    "maakt",
    "maar",
    "maken",
    "me",
    "meer",
    "meest",
    "men",
    "met",
    "mij",
    "mijn",
    "moet",
    "moeten",
    "na",
    "naar",
    "nee",
    "niet",
    "niets",
    "nog",
    "nu",
    "of",
    "om",
    "omdat",
    "onder",
    "ons",
    "onze",
    "ook",
    "op",
    "over",
    "reeds",
    "samen",
    "te",
    "tegen",
    "toch",
    "toen",
    "tot",
    "u",
    "uit",
    "uw",
    "van",
    "veel",
    "voor",
    "vooral",
    "waar",
    "wanneer",
    "want",
    "waren",
    "was",
    "wat",
    "we",
    "wel",
    "welk",
    "welke",
    "werd",
    "wezen",
    "wie",
    "wij",
    "wil",
    "willen",
    "word",
    "worden",
    "wordt",
    "zal",
    "ze",
    "zelf",
    "zich",
    "zij",
    "zijn",
    "zo",
    "zoals",
    "zodat",
    "zonder",
    "zou",
    "zouden",
    "zullen",
    // Prepositions and fillers beyond Snowball's list, which otherwise pair
    // up into empty phrases ("tussen visie", "per wijk").
    "achter",
    "beide",
    "bijvoorbeeld",
    "binnen",
    "boven",
    "buiten",
    "daarbij",
    "daarin",
    "daarom",
    "even",
    "graag",
    "langs",
    "ligt",
    "liggen",
    "misschien",
    "nooit",
    "per",
    "rond",
    "rondom",
    "sinds",
    "soms",
    "staan",
    "staat",
    "steeds",
    "tijdens",
    "tussen",
    "vaak",
    "vanaf",
    "vanuit",
    "via",
    "waarbij",
    "zeker",
    "zeer",
    "zit",
    "zitten",
    "zowel",
];

/// English stop words (a common short list).
const ENGLISH_STOP_WORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any",
    "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
    "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few",
    "for", "from", "further", "get", "had", "has", "have", "having", "he", "her", "here", "hers",
    "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "more", "most",
    "must", "my", "need", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or",
    "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so", "some", "such",
    "than", "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this",
    "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what",
    "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you",
    "your", "yours",
];

static STOP_WORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    DUTCH_STOP_WORDS
        .iter()
        .chain(ENGLISH_STOP_WORDS)
        .copied()
        .collect()
});

/// A merge key, interned: the number of its first appearance.
type WordId = u32;

/// A word or a phrase of two words, by their merge keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum TermKey {
    Word(WordId),
    Phrase(WordId, WordId),
}

impl TermKey {
    fn words(self) -> usize {
        match self {
            TermKey::Word(_) => 1,
            TermKey::Phrase(..) => 2,
        }
    }
}

/// Merge keys interned to numbers, so a term is two integers to hash and compare.
#[derive(Default)]
struct WordIds {
    ids: HashMap<String, WordId>,
}

impl WordIds {
    fn id(&mut self, key: String) -> WordId {
        let next = WordId::try_from(self.ids.len()).unwrap_or(WordId::MAX);
        *self.ids.entry(key).or_insert(next)
    }
}

#[derive(Default)]
struct TermStats {
    /// How often each spelling occurs, to show the most common one.
    spellings: HashMap<String, usize>,
    origins: Vec<Origin>,
    notes: Vec<NoteRef>,
}

impl TermStats {
    /// The most used spelling; on a tie the shortest, then the first alphabetically.
    fn spelling(&self) -> String {
        self.spellings
            .iter()
            .max_by(|(a, a_count), (b, b_count)| {
                a_count
                    .cmp(b_count)
                    .then(b.chars().count().cmp(&a.chars().count()))
                    .then_with(|| b.cmp(a))
            })
            .map(|(spelling, _)| spelling.clone())
            .unwrap_or_default()
    }
}

/// A word or phrase found in a note: its key and its spelling there.
struct Term {
    key: TermKey,
    spelling: String,
}

/// Every kept word of `text`, then every phrase of two adjacent kept words, within the
/// note's caps ([`WORDS_PER_NOTE`], [`WORDS_READ_PER_NOTE`]).
fn note_terms(text: &str, words: &mut WordIds) -> Vec<Term> {
    let mut terms = Vec::new();
    let mut phrases = Vec::new();
    for run in runs(text) {
        let run: Vec<(WordId, String)> = run
            .into_iter()
            .map(|(key, spelling)| (words.id(key), spelling))
            .collect();
        for pair in run.windows(2) {
            if let [(a_key, a), (b_key, b)] = pair {
                phrases.push(Term {
                    key: TermKey::Phrase(*a_key, *b_key),
                    spelling: format!("{a} {b}"),
                });
            }
        }
        terms.extend(run.into_iter().map(|(key, spelling)| Term {
            key: TermKey::Word(key),
            spelling,
        }));
    }
    terms.extend(phrases);
    terms
}

/// Runs of adjacent kept words as (merge key, lowercased word). A dropped word or hard
/// punctuation ends a run; spaces, hyphens and slashes only separate words. Reading stops
/// after [`WORDS_READ_PER_NOTE`] words, or before a kept word that would be the note's
/// [`WORDS_PER_NOTE`]`+1`th distinct one.
fn runs(text: &str) -> Vec<Vec<(String, String)>> {
    let mut reader = Runs {
        runs: vec![Vec::new()],
        read: 0,
        distinct: HashSet::new(),
    };
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let apostrophe_inside = matches!(c, '\'' | '’')
            && !word.is_empty()
            && chars.peek().is_some_and(|next| next.is_alphanumeric());
        if c.is_alphanumeric() || apostrophe_inside {
            word.extend(c.to_lowercase());
            continue;
        }
        if !reader.end_word(&mut word) {
            break;
        }
        let soft = c.is_whitespace() || matches!(c, '-' | '‐' | '–' | '/' | '&' | '+');
        if !soft {
            reader.runs.push(Vec::new());
        }
    }
    reader.end_word(&mut word);
    let mut runs = reader.runs;
    runs.retain(|run| !run.is_empty());
    runs
}

/// The state of [`runs`] while it reads a note.
struct Runs {
    runs: Vec<Vec<(String, String)>>,
    /// Words read so far, kept or dropped.
    read: usize,
    /// The distinct merge keys kept so far.
    distinct: HashSet<String>,
}

impl Runs {
    /// Ends the word being read; false when the note's caps say to stop reading.
    fn end_word(&mut self, word: &mut String) -> bool {
        if word.is_empty() {
            return true;
        }
        if self.read >= WORDS_READ_PER_NOTE {
            word.clear();
            return false;
        }
        self.read += 1;
        let word = std::mem::take(word);
        let bare = word
            .strip_suffix("'s")
            .or_else(|| word.strip_suffix("’s"))
            .unwrap_or(&word);
        let dropped = word.chars().count() < 3
            || word.chars().all(|c| c.is_numeric())
            || is_stop_word(&word)
            || is_stop_word(bare);
        if dropped {
            self.runs.push(Vec::new());
            return true;
        }
        let key = merge_key(&word);
        if !self.distinct.contains(&key) {
            if self.distinct.len() >= WORDS_PER_NOTE {
                return false;
            }
            self.distinct.insert(key.clone());
        }
        if let Some(run) = self.runs.last_mut() {
            run.push((key, word));
        }
        true
    }
}

fn is_consonant(c: char) -> bool {
    c.is_alphabetic() && !matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
}
