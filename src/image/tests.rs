//! Engine tests on the shared fixtures (`../shared/fixtures/images/` from the repo root).

use std::path::PathBuf;
use std::time::Instant;

use super::options::*;
use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/images")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn never() -> bool {
    false
}

#[test]
#[ignore = "timing breakdown, run with --release --ignored --nocapture"]
fn timing_breakdown() {
    for (name, w, h) in [
        ("2569067123_aca715a2ee_o.jpg", 720, 588),
        ("alpha-premultiply-2048x1536-paper.png", 720, 540),
    ] {
        let bytes = fixture(name);
        let header = metadata::read(&bytes).unwrap();
        let (hs, vs) = geometry::resolve_shrink(
            header.width,
            header.height,
            Some(w),
            Some(h),
            Fit::Cover,
            false,
        );
        let scale = if header.format == Some(Format::Jpeg) {
            decode::LoadScale::JpegDct(geometry::jpeg_shrink_on_load(hs, vs))
        } else {
            decode::LoadScale::Full
        };
        for _ in 0..5 {
            let t0 = Instant::now();
            let img = decode::decode(&bytes, &header, scale, false).unwrap();
            let t1 = Instant::now();
            let whole = resize::Window::whole(img.width, img.height);
            let small = resize::resize(img, w, h, Kernel::Lanczos3, whole).unwrap();
            let t2 = Instant::now();
            let out = encode::encode(
                small,
                header.format.unwrap(),
                &ResizeOptions::default(),
                Default::default(),
            )
            .unwrap();
            let t3 = Instant::now();
            println!(
                "{name}: decode {:?} resize {:?} encode {:?} ({} bytes)",
                t1 - t0,
                t2 - t1,
                t3 - t2,
                out.len()
            );
        }
    }
}

fn opts(width: Option<u32>, height: Option<u32>, fit: Fit) -> ResizeOptions {
    ResizeOptions {
        width,
        height,
        fit,
        ..ResizeOptions::default()
    }
}

fn plan_of(w: u32, h: u32, tw: Option<u32>, th: Option<u32>, fit: Fit, woe: bool) -> (u32, u32) {
    let p = geometry::plan(w, h, tw, th, fit, Gravity::Centre, woe);
    (p.width, p.height)
}

/// Expected values from sharp 0.35 (`sharp(input).resize({ width, height, fit, withoutEnlargement })`).
#[test]
fn geometry_follows_sharps_rules() {
    let (w, h) = (2725, 2225);
    assert_eq!(
        plan_of(w, h, Some(720), Some(588), Fit::Cover, false),
        (720, 588)
    );
    assert_eq!(
        plan_of(w, h, Some(300), Some(500), Fit::Cover, false),
        (300, 500)
    );
    assert_eq!(
        plan_of(w, h, Some(300), Some(500), Fit::Contain, false),
        (300, 500)
    );
    assert_eq!(
        plan_of(w, h, Some(300), Some(500), Fit::Inside, false),
        (300, 245)
    );
    assert_eq!(
        plan_of(w, h, Some(300), Some(500), Fit::Outside, false),
        (612, 500)
    );
    assert_eq!(
        plan_of(w, h, Some(300), Some(500), Fit::Fill, false),
        (300, 500)
    );
    assert_eq!(
        plan_of(w, h, Some(720), None, Fit::Cover, false),
        (720, 588)
    );
    assert_eq!(
        plan_of(w, h, None, Some(588), Fit::Inside, false),
        (720, 588)
    );
    assert_eq!(
        plan_of(w, h, Some(720), None, Fit::Fill, false),
        (720, 2225)
    );
    // Enlarging, and refusing to.
    assert_eq!(
        plan_of(320, 240, Some(640), Some(640), Fit::Cover, false),
        (640, 640)
    );
    assert_eq!(
        plan_of(320, 240, Some(640), Some(640), Fit::Cover, true),
        (320, 240)
    );
    assert_eq!(
        plan_of(320, 240, Some(640), Some(640), Fit::Contain, true),
        (640, 640)
    );
    assert_eq!(
        plan_of(320, 240, Some(640), Some(640), Fit::Inside, true),
        (320, 240)
    );
    assert_eq!(
        plan_of(320, 240, Some(4000), None, Fit::Inside, true),
        (320, 240)
    );
    // Never below one pixel.
    assert_eq!(
        plan_of(2725, 2225, Some(1), Some(1), Fit::Inside, false),
        (1, 1)
    );
}

#[test]
fn crop_and_embed_positions_match_sharps() {
    use geometry::{crop_position, embed_position};
    assert_eq!(crop_position(101, 50, 50, 50, Gravity::Centre), (26, 0));
    assert_eq!(crop_position(100, 60, 50, 50, Gravity::SouthEast), (50, 10));
    assert_eq!(crop_position(100, 60, 50, 50, Gravity::North), (25, 0));
    assert_eq!(embed_position(51, 50, 100, 100, Gravity::Centre), (24, 25));
    assert_eq!(embed_position(50, 50, 100, 80, Gravity::West), (0, 15));
}

#[test]
fn jpeg_shrink_on_load_factor_is_sharps() {
    assert_eq!(geometry::jpeg_shrink_on_load(3.78, 3.79), 2);
    assert_eq!(geometry::jpeg_shrink_on_load(2.0, 2.0), 1);
    assert_eq!(geometry::jpeg_shrink_on_load(4.5, 9.0), 2);
    assert_eq!(geometry::jpeg_shrink_on_load(5.0, 9.0), 4);
    assert_eq!(geometry::jpeg_shrink_on_load(8.0, 8.0), 4);
    assert_eq!(geometry::jpeg_shrink_on_load(8.5, 8.5), 4);
    assert_eq!(geometry::jpeg_shrink_on_load(9.0, 9.0), 8);
    assert_eq!(geometry::jpeg_shrink_on_load(1.5, 1.5), 1);
}

#[test]
fn orientation_moves_pixels_like_exif_says() {
    // A 2×1 image: red, green.
    let img = pixels::Pixels::new(2, 1, 3, vec![255, 0, 0, 0, 255, 0]);
    let flipped = orient::apply(img.clone(), 2);
    assert_eq!(flipped.data, vec![0, 255, 0, 255, 0, 0]);
    let cw = orient::apply(img.clone(), 6);
    assert_eq!((cw.width, cw.height), (1, 2));
    // Rotating 90° clockwise to display: the stored left pixel ends up on top.
    assert_eq!(cw.data, vec![255, 0, 0, 0, 255, 0]);
    let ccw = orient::apply(img, 8);
    assert_eq!(ccw.data, vec![0, 255, 0, 255, 0, 0]);
}

#[test]
fn benchmark_jpeg_resizes_with_shrink_on_load() {
    let bytes = fixture("2569067123_aca715a2ee_o.jpg");
    let out = resize(&bytes, &opts(Some(720), Some(588), Fit::Cover), &never).unwrap();
    assert_eq!(
        (out.format, out.width, out.height),
        (Format::Jpeg, 720, 588)
    );
    let header = metadata(&out.data).unwrap();
    assert_eq!((header.width, header.height), (720, 588));
}

#[test]
fn every_landscape_comes_out_600_by_450() {
    for n in 1..=8 {
        let bytes = fixture(&format!("Landscape_{n}.jpg"));
        let out = resize(&bytes, &opts(Some(600), None, Fit::Cover), &never).unwrap();
        assert_eq!((out.width, out.height), (600, 450), "Landscape_{n}");
    }
}

#[test]
fn bad_inputs_have_stable_codes() {
    let code = |name: &str| {
        resize(&fixture(name), &opts(Some(100), None, Fit::Cover), &never)
            .unwrap_err()
            .code()
    };
    assert_eq!(code("truncated.jpg"), "ERR_OFFLOAD_IMAGE_CORRUPT");
    assert_eq!(code("truncated.png"), "ERR_OFFLOAD_IMAGE_CORRUPT");
    assert_eq!(code("corrupt-header.jpg"), "ERR_OFFLOAD_IMAGE_CORRUPT");
    assert_eq!(code("giant-image.jpg"), "ERR_OFFLOAD_IMAGE_TOO_LARGE");
    assert_eq!(
        code("65536-uint32-limit.png"),
        "ERR_OFFLOAD_IMAGE_TOO_LARGE"
    );
    let junk: Vec<u8> = (0..1000u32).map(|i| (i * 31 % 251) as u8).collect();
    let err = resize(&junk, &ResizeOptions::default(), &never).unwrap_err();
    assert_eq!(err.code(), "ERR_OFFLOAD_IMAGE_UNSUPPORTED");
    let aborted = resize(&fixture("320x240.jpg"), &ResizeOptions::default(), &|| true).unwrap_err();
    assert_eq!(aborted.code(), "ERR_OFFLOAD_ABORTED");
}

#[test]
fn alpha_is_premultiplied_only_when_real() {
    // Opaque RGBA resizes like RGB; a transparent black pixel must not darken its neighbour.
    let mut data = Vec::new();
    for x in 0..64 {
        if x < 32 {
            data.extend_from_slice(&[255, 255, 255, 255]);
        } else {
            data.extend_from_slice(&[0, 0, 0, 0]);
        }
    }
    let img = pixels::Pixels::new(64, 1, 4, data);
    let small = resize::resize(img, 16, 1, Kernel::Lanczos3, resize::Window::whole(64, 1)).unwrap();
    for p in small.data.chunks_exact(4) {
        if p[3] > 0 {
            assert!(p[0] >= 250, "dark fringe: {p:?}");
        }
    }
}

#[test]
fn png_writer_round_trips() {
    let img = pixels::Pixels::new(3, 2, 4, (0..24).collect());
    let png = encode::png(&img, 6, None).unwrap();
    let back = image::load_from_memory(&png).unwrap().to_rgba8();
    assert_eq!(back.into_raw(), (0..24).collect::<Vec<u8>>());
}

/// The box type and major brand of an ISO-BMFF file's first box.
fn ftyp_brand(bytes: &[u8]) -> (&[u8], &[u8]) {
    (&bytes[4..8], &bytes[8..12])
}

#[test]
fn avif_writer_makes_an_avif_file() {
    let data: Vec<u8> = (0..48 * 32)
        .flat_map(|i| [i as u8, (i / 48) as u8 * 8, 128])
        .collect();
    let avif = encode::encode(
        pixels::Pixels::new(48, 32, 3, data),
        Format::Avif,
        &ResizeOptions::default(),
        Default::default(),
    )
    .unwrap();
    assert_eq!(ftyp_brand(&avif), (b"ftyp".as_slice(), b"avif".as_slice()));
    assert!(
        !avif.windows(4).any(|w| w == b"auxC"),
        "opaque RGB needs no alpha plane"
    );

    // RGBA keeps its alpha: an auxiliary alpha image is referenced.
    let rgba: Vec<u8> = (0..32 * 32u32)
        .flat_map(|i| [200, 10, 10, (i % 256) as u8])
        .collect();
    let avif = avif::encode(pixels::Pixels::new(32, 32, 4, rgba), 80, 9).unwrap();
    assert_eq!(ftyp_brand(&avif), (b"ftyp".as_slice(), b"avif".as_slice()));
    assert!(avif.windows(4).any(|w| w == b"auxC"), "alpha plane missing");

    // Through the whole pipeline, with the output's geometry.
    let out = resize(
        &fixture("320x240.jpg"),
        &ResizeOptions {
            format: Some(Format::Avif),
            ..opts(Some(100), None, Fit::Cover)
        },
        &never,
    )
    .unwrap();
    assert_eq!((out.format, out.width, out.height), (Format::Avif, 100, 75));
    assert_eq!(ftyp_brand(&out.data).1, b"avif");
}

/// A PNG whose header claims an animation (acTL), as an APNG's does.
fn with_actl(png: &[u8], frames: u32) -> Vec<u8> {
    let mut body = b"acTL".to_vec();
    body.extend_from_slice(&frames.to_be_bytes());
    body.extend_from_slice(&0u32.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&body);
    let ihdr_end = 8 + 8 + 13 + 4;
    let mut out = png[..ihdr_end].to_vec();
    out.extend_from_slice(&8u32.to_be_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc.sum().to_be_bytes());
    out.extend_from_slice(&png[ihdr_end..]);
    out
}

#[test]
fn regression_an_animated_png_made_an_empty_animation() {
    let png = resize(
        &fixture("320x240.jpg"),
        &ResizeOptions {
            format: Some(Format::Png),
            ..opts(Some(16), None, Fit::Cover)
        },
        &never,
    )
    .unwrap()
    .data;
    let apng = with_actl(&png, 2);
    assert_eq!(metadata::read(&apng).unwrap().pages, 2);
    for format in [Format::Gif, Format::Webp] {
        let out = resize(
            &apng,
            &ResizeOptions {
                format: Some(format),
                animated: true,
                ..opts(Some(8), None, Fit::Cover)
            },
            &never,
        )
        .unwrap();
        assert_eq!((out.format, out.width, out.height), (format, 8, 6));
        assert_eq!(metadata::read(&out.data).unwrap().width, 8);
    }
}

#[test]
fn avif_effort_maps_to_rav1e_speed() {
    assert_eq!(avif::speed(0), 10);
    assert_eq!(avif::speed(4), 6);
    assert_eq!(avif::speed(9), 1);
}

#[test]
fn the_threads_run_jobs_and_resize() {
    let pool: &'static threads::Threads = Box::leak(Box::new(threads::Threads::new(2)));
    let (tx, rx) = std::sync::mpsc::channel();
    for i in 0..8 {
        let tx = tx.clone();
        pool.submit(move || tx.send(i).unwrap());
    }
    let mut got: Vec<i32> = (0..8).map(|_| rx.recv().unwrap()).collect();
    got.sort();
    assert_eq!(got, (0..8).collect::<Vec<_>>());
    pool.set_size(1);
    assert_eq!(pool.size(), 1);
    let tx2 = tx.clone();
    pool.submit(move || tx2.send(99).unwrap());
    assert_eq!(rx.recv().unwrap(), 99);
}

/// A fuzz-style loop over the decoders (see also fuzz/): mutated fixtures must give an
/// image or a clean error, never a panic or a hang.
#[test]
fn mutated_fixtures_never_panic() {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let inputs = [
        "320x240.jpg",
        "with-alpha.png",
        "grey-8bit-alpha.png",
        "animated-loop-3.gif",
        "Landscape_5.jpg",
        "4.webp",
        "Flag_of_the_Netherlands-16bit.png",
    ];
    let started = Instant::now();
    for name in inputs {
        let original = fixture(name);
        for round in 0..12 {
            let mut bytes = original.clone();
            match round % 3 {
                0 => {
                    for _ in 0..(1 + next() % 16) {
                        let at = (next() as usize) % bytes.len();
                        bytes[at] = next() as u8;
                    }
                }
                1 => bytes.truncate(1 + (next() as usize) % bytes.len()),
                _ => {
                    let at = 2 + (next() as usize) % (bytes.len().min(600) - 2);
                    bytes[at] = 0xFF;
                }
            }
            let o = opts(Some(64), Some(64), Fit::Inside);
            let result = std::panic::catch_unwind(|| {
                let _ = resize(&bytes, &o, &never);
                let _ = metadata(&bytes);
            });
            assert!(result.is_ok(), "{name} round {round} panicked");
        }
    }
    assert!(
        started.elapsed().as_secs() < 60,
        "decoders too slow on bad input"
    );
}

#[test]
fn box_shrink_averages_whole_blocks_and_repeats_the_edge_into_a_partial_one() {
    let img = pixels::Pixels::new(5, 1, 1, vec![0, 10, 20, 30, 40]);
    let small = img.box_shrink(2, 1);
    assert_eq!((small.width, small.height), (3, 1));
    assert_eq!(small.data, vec![5, 25, 40]);
    // 7 / 4 = 1.75 rounds to 2; channels stay apart.
    let img = pixels::Pixels::new(2, 2, 2, vec![1, 100, 2, 100, 2, 0, 2, 0]);
    assert_eq!(img.box_shrink(2, 2).data, vec![2, 50]);
}

#[test]
fn extend_edges_repeats_the_last_column_and_row() {
    let img = pixels::Pixels::new(2, 2, 1, vec![1, 2, 3, 4]);
    let big = img.extend_edges(2, 1);
    assert_eq!((big.width, big.height), (4, 3));
    assert_eq!(big.data, vec![1, 2, 2, 2, 3, 4, 4, 4, 3, 4, 4, 4]);
}

#[test]
fn reduce_window_is_centred_on_the_planned_source_and_may_pass_its_edges() {
    // 600×450 at 1/8 is planned as 75×56; { height: 37 } shrinks both axes by 56/37.
    let s = 56.0 / 37.0;
    let w = resize::Window::centred((75, 56), (50, 37), (s, s));
    assert!((w.width - 50.0 * s).abs() < 1e-9 && (w.height - 56.0).abs() < 1e-9);
    assert!((w.left - (75.0 - 50.0 * s) / 2.0).abs() < 1e-9 && w.left < 0.0);
    assert!(w.top.abs() < 1e-9);
    // The window passes the right edge of the decoded 75 columns: the edge is repeated
    // rather than the resizer refusing the window, and a flat image stays flat.
    let flat = pixels::Pixels::new(75, 57, 3, vec![90; 75 * 57 * 3]);
    let small = resize::resize(flat, 50, 37, Kernel::Lanczos3, w).unwrap();
    assert_eq!((small.width, small.height), (50, 37));
    assert!(small.data.iter().all(|&v| v == 90));
}

#[test]
fn file_errors_carry_what_fs_reports() {
    let missing = std::path::Path::new("/nonexistent-offload-dir/in.jpg");
    let err = crate::image::read_input(missing).unwrap_err();
    let os = err.os.expect("an OS error");
    assert_eq!((os.errno, os.syscall), (libc::ENOENT, "open"));
    assert_eq!(os.path.as_deref(), Some("/nonexistent-offload-dir/in.jpg"));
    // fs.readFile on a directory: the open works, the read fails, and fs names no path.
    let os = crate::image::read_input(std::path::Path::new("/"))
        .unwrap_err()
        .os
        .unwrap();
    assert_eq!(
        (os.errno, os.syscall, os.path),
        (libc::EISDIR, "read", None)
    );
    // Writing over a directory fails at the rename, reported as fs.writeFile's open.
    let dir = std::env::temp_dir().join(format!("offload-eisdir-{}.jpg", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let os = crate::image::write_atomically(&dir, b"x")
        .unwrap_err()
        .os
        .unwrap();
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".offload-eisdir-"))
        .collect();
    std::fs::remove_dir(&dir).unwrap();
    assert_eq!((os.errno, os.syscall), (libc::EISDIR, "open"));
    assert_eq!(os.path.as_deref(), dir.to_str());
    assert!(left.is_empty(), "the temporary file is removed");
}
