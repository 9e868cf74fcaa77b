//! The survey behind the choice of QR recovery passes (docs/benchmarks.md,
//! "QR scanning"): single 640×480 frames over a wider grid than the test
//! matrix, each decode pass alone, with how many each reads and its cost.
//!
//! ```text
//! cargo run --release -p tallymesh-offline --example scan_survey
//! ```

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use support::{Noise, Scene, card_payload, fits, short_payload};
use tallymesh_offline::scan::{DecodePass, decode_pass};

fn main() {
    let noises = [
        Noise::Clean,
        Noise::Gaussian(12.0),
        Noise::Gaussian(25.0),
        Noise::Gaussian(40.0),
        Noise::SaltPepper(0.02),
        Noise::SaltPepper(0.05),
        Noise::Blur(0.7),
        Noise::Blur(1.2),
        Noise::LowContrast(60),
        Noise::LowContrast(30),
        Noise::Webcam,
    ];
    let passes: Vec<DecodePass> = std::iter::once(DecodePass::Plain).chain(DecodePass::RECOVERY).collect();
    let mut read = vec![0u32; passes.len()];
    let mut only = vec![0u32; passes.len()];
    let mut time = vec![Duration::ZERO; passes.len()];
    let (mut any, mut total) = (0, 0);
    let mut by_noise = Vec::new();
    for noise in noises {
        let (mut plain, mut some, mut count) = (0, 0, 0);
        for (payload, modules, sizes) in [
            (card_payload(), 89.0, &[2.0, 3.0, 4.0][..]),
            (short_payload(), 41.0, &[2.0, 3.0, 6.0, 10.0][..]),
        ] {
            for &module_px in sizes {
                for rotation_deg in [0.0, 15.0, 37.0, 90.0, 180.0] {
                    if !fits(modules, module_px, rotation_deg) {
                        continue;
                    }
                    let scene = Scene {
                        payload: payload.clone(),
                        module_px,
                        rotation_deg,
                        noise,
                        centre: (0.45, 0.55),
                        seed: 7,
                        ..Scene::card()
                    };
                    let luma = scene.render();
                    let mut hit = false;
                    let mut readers = Vec::new();
                    for (i, pass) in passes.iter().enumerate() {
                        let started = std::time::Instant::now();
                        let ok = decode_pass(&luma, *pass).contains(&payload);
                        time[i] += started.elapsed();
                        if ok {
                            readers.push(i);
                            read[i] += 1;
                            hit = true;
                            if i == 0 {
                                plain += 1;
                            }
                        }
                    }
                    if let [alone] = readers[..] {
                        only[alone] += 1;
                    }
                    count += 1;
                    total += 1;
                    if hit {
                        some += 1;
                        any += 1;
                    }
                }
            }
        }
        by_noise.push(format!("{noise:?}: plain {plain}/{count}, any pass {some}/{count}"));
    }
    println!("{total} single frames, 640×480");
    for (i, pass) in passes.iter().enumerate() {
        println!(
            "{pass:?}: reads {}, {} that no other pass reads ({:.1} ms a frame)",
            read[i],
            only[i],
            time[i].as_secs_f64() * 1000.0 / f64::from(total)
        );
    }
    println!("any pass: {any}");
    for line in by_noise {
        println!("{line}");
    }
}
