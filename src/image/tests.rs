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
        let shrink = if header.format == Some(Format::Jpeg) {
            geometry::jpeg_shrink_on_load(hs, vs)
        } else {
            1
        };
        for _ in 0..5 {
            let t0 = Instant::now();
            let img = decode::decode(&bytes, &header, shrink, false).unwrap();
            let t1 = Instant::now();
            let small = resize::resize(img, w, h, Kernel::Lanczos3).unwrap();
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

#[test]
#[ignore = "timing experiment"]
fn timing_resize_variants() {
    use fast_image_resize as fr;
    let bytes = fixture("alpha-premultiply-2048x1536-paper.png");
    let header = metadata::read(&bytes).unwrap();
    let img = decode::decode(&bytes, &header, 1, false).unwrap();
    for alpha in [true, false] {
        for _ in 0..3 {
            let src = fr::images::Image::from_vec_u8(
                img.width,
                img.height,
                img.data.clone(),
                fr::PixelType::U8x4,
            )
            .unwrap();
            let mut dst = fr::images::Image::new(720, 540, fr::PixelType::U8x4);
            let t = Instant::now();
            let mut r = fr::Resizer::new();
            r.resize(&src, &mut dst, &fr::ResizeOptions::new().use_alpha(alpha))
                .unwrap();
            println!(
                "alpha {alpha}: {:?} cpu {:?}",
                t.elapsed(),
                r.cpu_extensions()
            );
        }
    }
    for _ in 0..3 {
        let mut src = fr::images::Image::from_vec_u8(
            img.width,
            img.height,
            img.data.clone(),
            fr::PixelType::U8x4,
        )
        .unwrap();
        let mut dst = fr::images::Image::new(720, 540, fr::PixelType::U8x4);
        let t = Instant::now();
        let md = fr::MulDiv::default();
        md.multiply_alpha_inplace(&mut src).unwrap();
        let t1 = t.elapsed();
        let mut r = fr::Resizer::new();
        r.resize(&src, &mut dst, &fr::ResizeOptions::new().use_alpha(false))
            .unwrap();
        let t2 = t.elapsed();
        md.divide_alpha_inplace(&mut dst).unwrap();
        println!("manual: mul {t1:?} resize+ {t2:?} total {:?}", t.elapsed());
    }
    let t = Instant::now();
    let real = img.has_real_alpha();
    println!("has_real_alpha {real} {:?}", t.elapsed());
}

#[test]
#[ignore = "experiment: upscale alignment"]
fn upscale_alignment_dump() {
    use fast_image_resize as fr;
    let bytes = fixture("320x240.jpg");
    let header = metadata::read(&bytes).unwrap();
    let img = decode::decode(&bytes, &header, 1, false).unwrap();
    for (i, off) in [-0.25f64, 0.25, -0.5, 0.5].iter().enumerate() {
        let src = fr::images::Image::from_vec_u8(320, 240, img.data.clone(), fr::PixelType::U8x3)
            .unwrap();
        let mut dst = fr::images::Image::new(640, 480, fr::PixelType::U8x3);
        let opts = fr::ResizeOptions::new()
            .resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Bilinear))
            .crop(*off, *off, 320.0, 240.0);
        let r = fr::Resizer::new().resize(&src, &mut dst, &opts);
        println!("{off}: {r:?}");
        std::fs::write(format!("/tmp/up{i}.raw"), dst.buffer()).unwrap();
    }
}
