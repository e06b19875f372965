'use strict'
// The help text of `offload` and of each command.

const { ImageDefault, ImageRange } = require('../binding')
const { getConcurrency, FAIL_ON } = require('../image')

/** 'a, b or c' */
function orList(values) {
  return `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`
}

function main() {
  return `Usage: offload <command> [options]

Commands:
  thumbs <file|folder>...   Make a thumbnail of every image given, on all CPU cores
  help [command]            Show the help of a command

Options:
  -h, --help                Show this help
  -v, --version             Print the version of offload

Run 'offload help <command>' or 'offload <command> --help' for the options of a command.

Examples:
  offload thumbs photos/ --width 320 --out thumbs/
  offload help thumbs
`
}

function thumbs() {
  return `Usage: offload thumbs <file|folder>... --out DIR (--width N | --height N) [options]

Makes a thumbnail of every image given, on offload's image threads (all CPU cores).
Folders are searched, sub-folders included, for .jpg .jpeg .png .webp .gif .avif .tif
.tiff .bmp files (dot-files and dot-folders are left out); files named on the command
line are always tried, whatever their extension. A file that fails is reported with its
reason and the batch goes on.

Size:
  -w, --width N             Width of the thumbnail in pixels, ${ImageRange.SIDE.join('-')}
  -H, --height N            Height in pixels, ${ImageRange.SIDE.join('-')} (give --width, --height or both;
                            with one, the other follows the aspect ratio)
      --fit MODE            How the image fits both: cover (default: crop to fill),
                            contain (letterbox), fill (stretch), inside (fit within,
                            no crop), outside
      --without-enlargement Keep images smaller than the target at their size
      --fail-on LEVEL       ${orList(FAIL_ON)} (the default). none: make
                            a thumbnail of what a truncated or damaged JPEG holds
                            (grey where data is missing); the others: such a file fails

Output:
  -o, --out DIR             Folder for the thumbnails, created if missing (required)
  -f, --format FORMAT       jpeg (or jpg), png, webp, avif or gif
                            (default: the input's; TIFF and BMP become PNG)
  -q, --quality N           ${ImageRange.QUALITY.join('-')}, for JPEG, WebP and AVIF (default: ${ImageDefault.QUALITY})
      --suffix TEXT         Added to every output name before its extension
                            (--suffix=-small: photo.jpg -> photo-small.jpg)
      --force               Overwrite thumbnails that already exist
      --skip-existing       Keep thumbnails that already exist (to resume a batch)
                            Default: an existing thumbnail is a failure, left untouched

Batch:
  -r, --recursive           Search sub-folders too (the default)
      --no-recursive        Take only the images directly inside the folders given
  -j, --concurrency N       Images in flight, and image threads (default: the CPUs this
                            process may use, here ${getConcurrency()})
      --quiet               No line per image: failures and the summary only
  -h, --help                Show this help

Output names: a file named on the command line becomes DIR/NAME.EXT; an image found in a
folder keeps its path below that folder (photos/2024/a.jpg -> DIR/2024/a.jpg). EXT is the
output format's (.jpg for jpeg), or the input's own extension when the format is kept.
When two inputs would get the same name, the later ones get -2, -3, ... before the
extension. A thumbnail that would replace its own input is refused. An --out folder
inside a folder being searched is not searched (no thumbnails of thumbnails).

Progress (on stderr): on a terminal, one line redrawn in place with done/total, percent,
images per second, ETA and failures; otherwise one line per image:
  ok photos/a.jpg -> thumbs/a.jpg 320x213 10234 bytes 41 ms
  skipped photos/b.jpg -> thumbs/b.jpg: exists
  FAILED photos/c.jpg: ERR_OFFLOAD_IMAGE_CORRUPT <reason>
then a summary: images ok/failed/skipped, time, rate, bytes in and out.

Ctrl-C (SIGINT), SIGTERM or SIGHUP stops the images in flight and starts no more; no
half-written or temporary file is left behind. A second Ctrl-C exits at once.

Exit status: 0 all done, 1 some image failed, 2 usage error, 128+signal when stopped
(130 for Ctrl-C, 143 for SIGTERM).

Examples:
  offload thumbs photos/ --width 320 --out thumbs/
  offload thumbs *.jpg -w 200 -H 200 --fit inside -f webp -q 75 -o public/thumbs
  offload thumbs ~/Pictures --width 640 --suffix=@640 --skip-existing -j 4 -o /tmp/thumbs
  offload thumbs scan.tiff -H 1080 -o previews      # writes previews/scan.png
`
}

function help() {
  return `Usage: offload help [command]

Shows the help of a command (the same as 'offload <command> --help'), or the list of
commands when none is given.

Examples:
  offload help
  offload help thumbs
`
}

module.exports = { main, commands: { thumbs, help } }
