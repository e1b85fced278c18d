export const USAGE = `comfy-remote: call a ComfyUI workflow served by a comfy-remote worker (or an original-protocol endpoint).

Usage:
  comfy-remote call <url> --input name=VALUE [--input ...] [--out <dir>] [options]
  comfy-remote schema <url> [--json] [--token <token>]
  comfy-remote --help | --version

VALUE forms (append :TYPE to the name to force a ComfyUI type, e.g. mask:MASK=@m.npy):
  @image.png    an IMAGE, sent as PNG bytes (no re-encoding)
  @array.npy    a tensor, sent as .npy bytes (type from the endpoint's /schema, else *)
  @value.json   an encoded value {type, encoding, data}, or any JSON value
  @clip.mp4     a VIDEO (.mp4 .webm .mov .mkv), AUDIO (.wav .flac .mp3 .ogg) or other media
                file (.glb ...), sent as the file itself (streamed); name:FILE=@any.file for any file
  https://...   a URL ending in .npy/.png/a media extension: the worker fetches it (ref)
  literal       a number, true/false, JSON, or plain text (STRING)

Options:
  -i, --input name=VALUE an input of the workflow (repeatable; see VALUE forms above)
  -o, --out <dir>        where outputs are written (default: .): IMAGE -> <name>.png
                         (<name>_<i>.png for a batch), tensors -> <name>.npy, files by their
                         mime (<name>.mp4, .webm, .wav, .flac, ...), the rest -> <name>.json;
                         an existing file is never replaced (<name>-2.png, ...)
  --token <token>        bearer token (default: $COMFY_REMOTE_TOKEN)
  --timeout <seconds>    overall time budget (default 300)
  --poll-interval <s>    delay between polls when the server gives none (default 1.5)
  --transport <t>        auto | json | multipart (default auto)
  --previews <dir>       write live previews there while the job runs: latest.jpg (or .png), and
                         preview-0001.jpg... (the newest 100 kept)
  --webhook <url>        also have the worker POST the finished job (signed, Standard Webhooks)
                         to this https:// receiver; the worker needs --webhook-secret
  --max-files <n>        most files one call writes (default 256); more outputs is OUTPUT_LIMIT,
                         an IMAGE batch with more items stays one file (.png stacked / .npy)
  --max-decoded-mb <n>   most memory splitting an IMAGE batch into PNGs may decode (default 1024);
                         a bigger batch stays one file as it came
  --json                 schema: print the raw JSON instead of a table
  -q, --quiet            no progress output
  -h, --help             this help (also: comfy-remote call --help)
  -v, --version          print the version

Exit codes: 0 done, 1 the remote call failed (reason on stderr), 2 bad arguments or input files,
130 interrupted (the remote job is cancelled).
`
