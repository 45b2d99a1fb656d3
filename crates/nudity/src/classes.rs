//! NudeNet's 18 region classes and what each means for moderation.

use cleanweb_core::{Category, ClassRule};

/// The model's classes, in output order (from the model's own metadata).
pub const CLASSES: [&str; 18] = [
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
];

/// The shipped mapping. Exposed genitalia and anus weigh most (the model
/// rarely fires on them by mistake); exposed breasts and buttocks count as
/// explicit at face value; covered intimate regions are suggestive; a male
/// chest or a belly is weak evidence (beach and sport photos), so it needs
/// a confident detection to reach review. Faces, feet and armpits are
/// context only.
pub fn default_rule(class: &str) -> ClassRule {
    let rule = |category, weight: f32| ClassRule {
        category,
        weight,
        min_score: 0.3,
    };
    use Category::{SexualExplicit as E, SexualSuggestive as S};
    match class {
        "FEMALE_GENITALIA_EXPOSED" | "MALE_GENITALIA_EXPOSED" | "ANUS_EXPOSED" => {
            rule(Some(E), 1.3)
        }
        "FEMALE_BREAST_EXPOSED" | "BUTTOCKS_EXPOSED" => rule(Some(E), 1.0),
        "FEMALE_GENITALIA_COVERED"
        | "ANUS_COVERED"
        | "FEMALE_BREAST_COVERED"
        | "BUTTOCKS_COVERED" => rule(Some(S), 1.0),
        "MALE_BREAST_EXPOSED" | "BELLY_EXPOSED" => rule(Some(S), 0.6),
        "BELLY_COVERED" => rule(Some(S), 0.3),
        _ => rule(None, 1.0),
    }
}
