#!/usr/bin/env bash
# Generate the small bundled sample interviews used by the onrecord demo and tests.
#
#   samples/make_samples.sh            # (re)writes everything under samples/
#
# Needs: espeak-ng, sox, ffmpeg (with libmp3lame, libopus, libx264), python3.
#   Debian/Ubuntu: apt-get install -y espeak-ng sox ffmpeg
#
# Idempotent and reproducible: every output is rebuilt from the scripts below,
# built in a temp dir and moved into place, and encoded with bit-exact flags (no
# encoder/version tags, no dither), so re-running on the same tool versions gives
# byte-identical files.
# The spoken text of every audio/video sample is also written to scripts.json,
# which is the ground truth the tests compare transcripts against.
set -euo pipefail

SAMPLES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$SAMPLES_DIR"

for tool in espeak-ng sox soxi ffmpeg ffprobe python3; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "make_samples.sh: '$tool' not found (apt-get install -y espeak-ng sox ffmpeg)" >&2
        exit 1
    }
done

RATE=16000          # output sample rate (Hz), mono everywhere
WPM=150             # espeak-ng speaking rate (words per minute)
GAP=0.6             # silence between turns (s)
EDGE=0.3            # silence at the start and end of each file (s)
# Two voices a speaker model can tell apart: espeak's en-us+m3 and en-gb+f3 embed (CAM++) as alike as two
# turns of one voice (cosine 0.87), so no diarizer could separate them; a deep m1 and the klatt4 voice do
# (about 0.57, against 0.9 within a voice), and tiny.en still hears them well.
VOICE_I=(-v en-us+m1 -p 10)         # interviewer
VOICE_G=(-v en-us+klatt4 -a 70)     # guest (quieter: at full amplitude klatt4 clips)

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------------------
# Scripts. One turn per line: ROLE|Speaker name|Text exactly as spoken.
# ROLE is I (interviewer voice) or G (guest voice, also used for the single-speaker talk).
# Keep sentences short and plain; write numbers as words (better: avoid numbers,
# Whisper writes them as digits). The wording was tuned until faster-whisper
# tiny.en transcribes each file almost word for word (check_samples.py): espeak's
# en-gb voice turned "by hand" into "my hand" and "cherries" into "carries", and
# "pip"/"wheel" are heard reliably from the klatt4 voice at 140 wpm.
# ---------------------------------------------------------------------------

ROCKETS=(
"I|Interviewer|My guest today is Laura Bennett, who runs a rocket company."
"G|Laura Bennett|Thank you for having me. Our company makes reusable rockets."
"I|Interviewer|Why does reuse matter so much?"
"G|Laura Bennett|The cost of launch is mostly the hardware. If you throw the rocket away, you pay for a new one every time."
"I|Interviewer|How do you bring a booster back?"
"G|Laura Bennett|The booster flips around and fires its engines. Then it lands on a ship in the ocean."
"I|Interviewer|What about a giant ship like Starship?"
"G|Laura Bennett|A fully reusable ship could carry people and cargo to orbit."
"I|Interviewer|And the long term goal?"
"G|Laura Bennett|Mars. We want to build a city on Mars."
)

COFFEE=(
"I|Interviewer|My guest is Carlos Mendez, a coffee farmer."
"G|Carlos Mendez|My family grows coffee high in the mountains."
"I|Interviewer|Why does altitude matter?"
"G|Carlos Mendez|The coffee grows slowly up there, so it tastes better."
"I|Interviewer|How do you harvest it?"
"G|Carlos Mendez|We pick all the coffee with our hands."
"I|Interviewer|Is the price of coffee fair?"
"G|Carlos Mendez|Prices go up and down. Some years we lose money."
"I|Interviewer|Is climate change affecting your crop?"
"G|Carlos Mendez|Yes. The rain comes at the wrong time, and the heat brings new pests."
)

PACKAGING=(
"G|Priya Nair|Let me explain Python packaging in plain words. First, the wheel. A wheel is a package that is already built, so pip can install it quickly. Always work inside a virtual environment, so each project keeps its own libraries. A lock file records the exact version of each dependency. With a lock file, your whole team installs the same versions. Finally, keep pip up to date."
)

BIKES=(
"I|Interviewer|How is the bike sharing program going in the city?"
"G|Sam Okafor|Very well. We now have docking stations in every part of town."
"I|Interviewer|Do people ride the electric bikes?"
"G|Sam Okafor|Yes. Electric bikes are popular because they make it easy to climb hills."
"I|Interviewer|What happens in winter?"
"G|Sam Okafor|Fewer people ride in the snow, but we keep most docking stations open all winter."
)

# A short podcast that moves through several subjects, with an intro, a sponsor read and an outro: the
# write-up's ground truth (benchmarks/data/topic_annotations_samples.jsonl marks its sections by turn).
OCEAN=(
"I|Sam Reed|Welcome to Deep Water, the show about the ocean and the people who study it. I am your host, Sam Reed."
"I|Sam Reed|My guest today is Anna Stone, a marine biologist."
"G|Anna Stone|Thanks for having me. I have studied the sea for most of my life."
"I|Sam Reed|Let us start with coral reefs. What is happening to them?"
"G|Anna Stone|When the water gets too warm, the coral pushes out the algae that feed it. The reef turns white, and we call that bleaching. A bleached reef can recover, but only if the heat does not last too long."
"I|Sam Reed|Can we help the reefs recover?"
"G|Anna Stone|Yes. We grow young coral in nurseries and plant it back on damaged reefs."
"I|Sam Reed|Let us talk about plastic. How much of it ends up in the sea?"
"G|Anna Stone|Millions of tons of plastic reach the ocean every year. Most of it breaks into tiny pieces that fish and birds swallow."
"I|Sam Reed|What can people do about it?"
"G|Anna Stone|Use fewer plastic bags and bottles. Cleaning beaches helps, but stopping the waste at the source helps far more."
"I|Sam Reed|We will be right back after a word from our sponsor. This episode is brought to you by Tidewater Boots. Tidewater boots keep your feet dry on any deck. Visit tidewater boots dot com and use the code deep water for a discount on your first pair."
"I|Sam Reed|You also explore the deep sea. How do you get down there?"
"G|Anna Stone|We send robots. Our underwater robot dives far deeper than any diver, into total darkness. It carries cameras, lights, and an arm that collects animals and rocks."
"I|Sam Reed|What have the robots found?"
"G|Anna Stone|Strange animals that make their own light, and hot springs on the sea floor that are full of life."
"I|Sam Reed|Finally, sharks. Should swimmers be afraid of them?"
"G|Anna Stone|Hardly. Sharks rarely attack people. Fishing boats kill millions of sharks every year, so sharks should be afraid of us."
"I|Sam Reed|Why do sharks matter?"
"G|Anna Stone|Sharks keep the food chain in balance. Without them, the fish they hunt grow too many, and the whole system suffers."
"I|Sam Reed|Anna, thank you for joining us. That is all for this episode of Deep Water. Thanks for listening, and see you next week."
)

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

# silence SECONDS OUT.wav
silence() {
    sox -D -n -r "$RATE" -c 1 -b 16 "$2" trim 0 "$1"  # -D: true digital silence, no dither noise
}

# speak_turns OUT.wav WPM TURN... : synthesise turns, join with GAP silence, pad edges. Appends each turn's
# exact start and end (seconds in OUT.wav) to OUT.wav.times, one "start end" line per turn.
speak_turns() {
    local out="$1" wpm="$2"; shift 2
    local n=0 parts=() role speaker text raw at length
    local -a voice
    silence "$GAP" "$WORK/gap.wav"
    silence "$EDGE" "$WORK/edge.wav"
    parts+=("$WORK/edge.wav")
    at="$EDGE"
    : >"$out.times"
    for turn in "$@"; do
        IFS='|' read -r role speaker text <<<"$turn"
        case "$role" in
            I) voice=("${VOICE_I[@]}") ;;
            G) voice=("${VOICE_G[@]}") ;;
            *) echo "bad role '$role' in: $turn" >&2; exit 1 ;;
        esac
        n=$((n + 1))
        raw="$WORK/turn-raw-$n.wav"
        espeak-ng "${voice[@]}" -s "$wpm" -w "$raw" -- "$text"
        # -D: no dither, so output is deterministic.
        sox -D "$raw" -r "$RATE" -c 1 -b 16 "$WORK/turn-$n.wav"
        if [ "$n" -gt 1 ]; then
            parts+=("$WORK/gap.wav")
            at=$(python3 -c "print(round($at + $GAP, 4))")
        fi
        parts+=("$WORK/turn-$n.wav")
        length="$(soxi -D "$WORK/turn-$n.wav")"
        echo "$at $(python3 -c "print(round($at + $length, 4))")" >>"$out.times"
        at=$(python3 -c "print(round($at + $length, 4))")
    done
    parts+=("$WORK/edge.wav")
    sox -D "${parts[@]}" "$out"
}

# Common ffmpeg flags: quiet, no metadata, no encoder version strings.
FF=(ffmpeg -nostdin -hide_banner -loglevel error -y)
BITEXACT=(-map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact)

# publish TMP FINAL : move a finished file into place
publish() { mv -f "$1" "$2"; }

# ---------------------------------------------------------------------------
# 1. rockets-interview.mp3  (MP3, mono 16 kHz, 32 kbps)
# ---------------------------------------------------------------------------
speak_turns "$WORK/rockets.wav" "$WPM" "${ROCKETS[@]}"
"${FF[@]}" -i "$WORK/rockets.wav" -ac 1 -ar "$RATE" \
    -c:a libmp3lame -b:a 32k -id3v2_version 0 -write_id3v1 0 \
    "${BITEXACT[@]}" "$WORK/rockets-interview.mp3"
publish "$WORK/rockets-interview.mp3" rockets-interview.mp3

# ---------------------------------------------------------------------------
# 2. coffee-interview.ogg  (Opus in Ogg, mono 16 kHz, 24 kbps)
# ---------------------------------------------------------------------------
speak_turns "$WORK/coffee.wav" "$WPM" "${COFFEE[@]}"
"${FF[@]}" -i "$WORK/coffee.wav" -ac 1 -ar "$RATE" \
    -c:a libopus -b:a 24k -application voip \
    "${BITEXACT[@]}" "$WORK/coffee-interview.ogg"
publish "$WORK/coffee-interview.ogg" coffee-interview.ogg

# ---------------------------------------------------------------------------
# 3. packaging-talk.m4a  (AAC in MP4, mono 16 kHz, 32 kbps), single speaker
# ---------------------------------------------------------------------------
# Slightly slower: tiny.en hears "pip" and "wheel" more reliably at 140 wpm.
speak_turns "$WORK/packaging.wav" 140 "${PACKAGING[@]}"
"${FF[@]}" -i "$WORK/packaging.wav" -ac 1 -ar "$RATE" \
    -c:a aac -b:a 32k -movflags +faststart \
    "${BITEXACT[@]}" "$WORK/packaging-talk.m4a"
publish "$WORK/packaging-talk.m4a" packaging-talk.m4a

# ---------------------------------------------------------------------------
# 4. city-bikes.mp4  (160x120 solid colour at 5 fps H.264 + AAC mono 16 kHz)
# ---------------------------------------------------------------------------
speak_turns "$WORK/bikes.wav" "$WPM" "${BIKES[@]}"
# Give the colour source an explicit duration: -shortest overshoots with x264.
bikes_dur="$(soxi -D "$WORK/bikes.wav")"
"${FF[@]}" -f lavfi -i "color=c=0x2a7f62:s=160x120:r=5:d=${bikes_dur}" -i "$WORK/bikes.wav" \
    -map 0:v -map 1:a \
    -c:v libx264 -preset slow -tune stillimage -crf 32 -pix_fmt yuv420p -threads 1 \
    -c:a aac -b:a 32k -ac 1 -ar "$RATE" -movflags +faststart \
    "${BITEXACT[@]}" "$WORK/city-bikes.mp4"
publish "$WORK/city-bikes.mp4" city-bikes.mp4

# ---------------------------------------------------------------------------
# 5. ocean-podcast.mp3  (MP3, mono 16 kHz, 32 kbps): several subjects, a sponsor read, an intro and an outro
# ---------------------------------------------------------------------------
# Slower, like the packaging talk: tiny.en hears the klatt4 guest better at 135 wpm.
speak_turns "$WORK/ocean.wav" 135 "${OCEAN[@]}"
"${FF[@]}" -i "$WORK/ocean.wav" -ac 1 -ar "$RATE" \
    -c:a libmp3lame -b:a 32k -id3v2_version 0 -write_id3v1 0 \
    "${BITEXACT[@]}" "$WORK/ocean-podcast.mp3"
publish "$WORK/ocean-podcast.mp3" ocean-podcast.mp3

# ---------------------------------------------------------------------------
# scripts.json: the turns of every audio/video sample, exactly as spoken.
# ---------------------------------------------------------------------------
# Each turn with its exact start and end in the file (from speak_turns), so tests can check who spoke when.
{
    paste -d'|' <(printf '%s\n' "${ROCKETS[@]}") "$WORK/rockets.wav.times" | sed 's/^/rockets-interview.mp3|/'
    paste -d'|' <(printf '%s\n' "${COFFEE[@]}") "$WORK/coffee.wav.times" | sed 's/^/coffee-interview.ogg|/'
    paste -d'|' <(printf '%s\n' "${PACKAGING[@]}") "$WORK/packaging.wav.times" | sed 's/^/packaging-talk.m4a|/'
    paste -d'|' <(printf '%s\n' "${BIKES[@]}") "$WORK/bikes.wav.times" | sed 's/^/city-bikes.mp4|/'
    paste -d'|' <(printf '%s\n' "${OCEAN[@]}") "$WORK/ocean.wav.times" | sed 's/^/ocean-podcast.mp3|/'
} | python3 -c '
import json, sys
out = {}
for line in sys.stdin:
    name, _role, speaker, text, times = line.rstrip("\n").split("|", 4)
    start, end = map(float, times.split())
    out.setdefault(name, []).append({"speaker": speaker, "text": text, "start": start, "end": end})
json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
sys.stdout.write("\n")
' >"$WORK/scripts.json"
publish "$WORK/scripts.json" scripts.json

# ---------------------------------------------------------------------------
# 6./7. Hand-written transcripts (no audio).
# ---------------------------------------------------------------------------
mkdir -p transcripts

cat >"$WORK/gardening.vtt" <<'EOF'
WEBVTT

1
00:00:00.000 --> 00:00:07.400
<v Interviewer>Welcome back. Today I am on a rooftop garden with Dana Ortiz, who grows food in the middle of the city.

2
00:00:08.100 --> 00:00:16.900
<v Dana Ortiz>Thanks for coming up. Six years ago this roof was bare gravel. Now we have forty raised beds and a small greenhouse.

3
00:00:17.500 --> 00:00:23.200
<v Interviewer>What grows best up here, with all the wind and sun?

4
00:00:23.800 --> 00:00:34.600
<v Dana Ortiz>Tomatoes, peppers and herbs love it. Lettuce and spinach struggle in July, so we plant them in the shade of the water tank.

5
00:00:35.300 --> 00:00:41.000
<v Interviewer>Where does your soil come from? You can't exactly dig a hole on a roof.

6
00:00:41.700 --> 00:00:53.900
<v Dana Ortiz>It's a light mix of compost and coconut coir. Real soil is too heavy for the building. We make our own compost from the neighbourhood's kitchen scraps.

7
00:00:54.600 --> 00:01:00.200
<v Interviewer>And watering? That must be a daily chore in summer.

8
00:01:00.900 --> 00:01:12.400
<v Dana Ortiz>We collect rainwater in barrels and run drip irrigation on a timer. It uses about a third of the water that hand watering did.

9
00:01:13.100 --> 00:01:19.800
<v Interviewer>Who actually does the work? Is this a business or a hobby?

10
00:01:20.500 --> 00:01:33.700
<v Dana Ortiz>It's a community garden. About sixty volunteers take shifts, and every Saturday we give the harvest to a food bank two streets away.

11
00:01:34.400 --> 00:01:40.100
<v Interviewer>What would you tell someone with just a balcony?

12
00:01:40.800 --> 00:01:55.300
<v Dana Ortiz>Start with one big pot and some basil or cherry tomatoes. Check how many hours of sun you get, water in the morning, and don't be afraid to fail. Every gardener kills a few plants.
EOF
publish "$WORK/gardening.vtt" transcripts/gardening.vtt

cat >"$WORK/chess-podcast.srt" <<'EOF'
1
00:00:00,000 --> 00:00:06,200
Welcome to Late Knight, the podcast for people who learned chess as adults.

2
00:00:06,800 --> 00:00:14,500
I picked up the game at thirty-five, and my first mistake was memorising openings twenty moves deep.

3
00:00:15,100 --> 00:00:22,900
The truth is that beginners lose to blunders, not to bad openings. Learn the ideas behind the Italian and the London, and move on.

4
00:00:23,600 --> 00:00:31,800
What really helped me was tactics puzzles. Ten or fifteen a day, every day, looking for forks, pins and skewers.

5
00:00:32,400 --> 00:00:40,700
After a few months you start to see the knight fork before it happens, and your rating climbs without you noticing.

6
00:00:41,300 --> 00:00:49,600
Online blitz is fun, but three-minute games teach bad habits. You move fast and never check what your opponent threatens.

7
00:00:50,200 --> 00:00:58,400
I now play one slow rapid game a day, fifteen minutes plus ten seconds, and review it afterwards without an engine first.

8
00:00:59,000 --> 00:01:07,300
Endgames matter too. Learn king and pawn endings and the basic rook endgame. They come up far more often than you think.

9
00:01:07,900 --> 00:01:15,100
And join a local club if you can. Playing over the board against a real person across the table is a different feeling.

10
00:01:15,700 --> 00:01:22,400
That's all for today. Next week: how to stop tilting after a loss in online blitz. Thanks for listening.
EOF
publish "$WORK/chess-podcast.srt" transcripts/chess-podcast.srt

echo "samples written to $SAMPLES_DIR:"
for f in rockets-interview.mp3 coffee-interview.ogg packaging-talk.m4a city-bikes.mp4 ocean-podcast.mp3; do
    d="$(ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$f")"
    printf '  %-24s %8s bytes  %6.2f s\n' "$f" "$(stat -c %s "$f")" "$d"
done
for f in scripts.json transcripts/gardening.vtt transcripts/chess-podcast.srt; do
    printf '  %-24s %8s bytes\n' "$f" "$(stat -c %s "$f")"
done
