"""The one place where float seconds become text."""


def format_timestamp(seconds: float, *, always_hours: bool = False, decimal: str = ".", millis: bool = True) -> str:
    """Format seconds as [HH:]MM:SS[.mmm]; `decimal=","` gives SRT's style."""
    total_ms = max(0, round(seconds * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    text = f"{minutes:02d}:{secs:02d}"
    if hours or always_hours:
        text = f"{hours:02d}:{text}"
    return f"{text}{decimal}{ms:03d}" if millis else text


def parse_timestamp(text: str) -> float:
    """Parse [HH:]MM:SS[.,]mmm into seconds; raises ValueError on anything else."""
    parts = text.strip().replace(",", ".").split(":")
    if not 2 <= len(parts) <= 3 or not all(p.replace(".", "", 1).isdigit() for p in parts):
        raise ValueError(f"bad timestamp {text!r}")
    seconds = float(parts[-1])
    minutes = int(parts[-2])
    hours = int(parts[0]) if len(parts) == 3 else 0
    if seconds >= 60 or minutes >= 60:
        raise ValueError(f"bad timestamp {text!r}")
    return hours * 3600 + minutes * 60 + seconds


def day_number(date: str | None) -> int | None:
    """An ISO date (or datetime) -> YYYYMMDD as an int, so Chroma can filter date ranges with $gte/$lte."""
    digits = (date or "")[:10].replace("-", "")
    return int(digits) if len(digits) == 8 and digits.isdigit() else None
