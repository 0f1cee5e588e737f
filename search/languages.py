"""Language codes as Whisper detects them (ISO 639-1, a few 639-3), and their English names for display."""

from __future__ import annotations

# Whisper's 100 languages, as its tokenizer lists them (faster_whisper.tokenizer._LANGUAGE_CODES).
_NAMES = dict(pair.split(":") for pair in """
af:Afrikaans am:Amharic ar:Arabic as:Assamese az:Azerbaijani ba:Bashkir be:Belarusian bg:Bulgarian bn:Bengali
bo:Tibetan br:Breton bs:Bosnian ca:Catalan cs:Czech cy:Welsh da:Danish de:German el:Greek en:English es:Spanish
et:Estonian eu:Basque fa:Persian fi:Finnish fo:Faroese fr:French gl:Galician gu:Gujarati ha:Hausa haw:Hawaiian
he:Hebrew hi:Hindi hr:Croatian ht:Haitian_Creole hu:Hungarian hy:Armenian id:Indonesian is:Icelandic it:Italian
ja:Japanese jw:Javanese ka:Georgian kk:Kazakh km:Khmer kn:Kannada ko:Korean la:Latin lb:Luxembourgish ln:Lingala
lo:Lao lt:Lithuanian lv:Latvian mg:Malagasy mi:Maori mk:Macedonian ml:Malayalam mn:Mongolian mr:Marathi ms:Malay
mt:Maltese my:Burmese ne:Nepali nl:Dutch nn:Nynorsk no:Norwegian oc:Occitan pa:Punjabi pl:Polish ps:Pashto
pt:Portuguese ro:Romanian ru:Russian sa:Sanskrit sd:Sindhi si:Sinhala sk:Slovak sl:Slovenian sn:Shona so:Somali
sq:Albanian sr:Serbian su:Sundanese sv:Swedish sw:Swahili ta:Tamil te:Telugu tg:Tajik th:Thai tk:Turkmen
tl:Tagalog tr:Turkish tt:Tatar uk:Ukrainian ur:Urdu uz:Uzbek vi:Vietnamese yi:Yiddish yo:Yoruba yue:Cantonese
zh:Chinese
""".split())


def language_name(code: str | None) -> str:
    """"Spanish" for "es"; an unknown code as it is; "" when the language is not known."""
    if not code:
        return ""
    return _NAMES.get(code.lower(), code).replace("_", " ")
