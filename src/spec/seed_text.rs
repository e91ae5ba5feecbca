//! Seeds in JSON are decimal strings: a u64 above 2^53 is not exact as a JSON number in
//! JavaScript or jq, so a CI script that re-ran with the number it read would use another
//! seed. Reading also accepts a plain number, as older reports wrote it.

use serde::{Deserialize, Deserializer, Serializer};

pub fn serialize<S: Serializer>(seed: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(seed)
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Seed {
        Text(String),
        Number(u64),
    }
    match Seed::deserialize(deserializer)? {
        Seed::Number(n) => Ok(n),
        Seed::Text(text) => text.parse().map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Report {
        #[serde(with = "super")]
        seed: u64,
    }

    #[test]
    fn a_seed_above_two_to_the_53_survives_json_as_text() {
        let report = Report {
            seed: 16_093_483_585_231_103_327,
        };
        let text = serde_json::to_string(&report).expect("serialise");
        assert_eq!(text, r#"{"seed":"16093483585231103327"}"#);
        assert_eq!(serde_json::from_str::<Report>(&text).expect("read"), report);
        let old: Report = serde_json::from_str(r#"{"seed":7}"#).expect("read a number");
        assert_eq!(old.seed, 7);
    }
}
