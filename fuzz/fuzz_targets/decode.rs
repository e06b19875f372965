//! Any bytes through the image entry points: header parsing, every decoder, resize and
//! encode. A panic, an abort or a hang is a bug; an error is the expected answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use offload::image::{self, Fit, ResizeOptions};

fuzz_target!(|data: &[u8]| {
    let _ = image::metadata(data);
    let options = ResizeOptions {
        width: Some(32),
        height: Some(32),
        fit: Fit::Inside,
        // Keep each run small: the pixel limit is part of what is under test.
        limit_input_pixels: Some(4_000_000),
        ..ResizeOptions::default()
    };
    let _ = image::resize(data, &options, &|| false);
});
