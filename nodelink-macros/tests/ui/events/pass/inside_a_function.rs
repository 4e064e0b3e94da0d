//! Events declared inside a function body (as in a doctest or a test), with
//! variants named like the types of their fields, get their structs beside them.

use std::collections::BTreeMap;

fn main() {
    #[nodelink::events]
    #[derive(Debug, Clone, PartialEq)]
    enum Settings {
        Option(Option<u8>),
        String { value: String },
        Vec(Vec<String>),
        Map(BTreeMap<String, Option<u32>>),
        Reset,
    }

    let option = SettingsOption(Some(1));
    assert_eq!(Settings::from(option.clone()), Settings::Option(Some(1)));
    let text = SettingsString { value: String::from("x") };
    let _: Settings = text.into();
    let list = SettingsVec(vec![String::from("a")]);
    let _: Vec<String> = list.0;
    let map = SettingsMap(BTreeMap::new());
    assert!(map.0.is_empty());
    assert_eq!(Settings::from(SettingsReset), Settings::Reset);
}
