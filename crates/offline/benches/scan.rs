//! Time to search one 640×480 camera frame for a QR code.
//!
//! `cargo bench -p tallymesh-offline --bench scan`. The figures and the
//! machine they came from are in docs/benchmarks.md ("QR scanning").

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tallymesh_offline::camera::{Frame, InjectedSource};
use tallymesh_offline::scan::{DecodePass, QrScanner, ScanCancel, decode_pass};

#[path = "../tests/support/mod.rs"]
mod support;

use support::{Noise, Scene};

fn frames(c: &mut Criterion) {
    let card = Scene {
        module_px: 4.0,
        centre: (0.45, 0.55),
        rotation_deg: 15.0,
        noise: Noise::Gaussian(8.0),
        ..Scene::card()
    };
    let with_code = card.render();
    let empty = Scene {
        payload: Vec::new(),
        ..card.clone()
    }
    .render();

    let mut group = c.benchmark_group("qr_640x480");
    group.sample_size(30).measurement_time(Duration::from_secs(8));

    // A frame with a readable card code: the plain reading finds it.
    let scanner = QrScanner::new();
    let frame = Frame::luma(with_code, Duration::ZERO);
    group.bench_function("card code found", |b| {
        b.iter(|| black_box(scanner.decode(black_box(&frame))))
    });

    // The common case while the user lines the code up: nothing there. A
    // stream pays the plain reading plus one recovery pass per frame; six
    // frames run the whole cycle once.
    let cycle = DecodePass::RECOVERY.len();
    group.bench_function("empty frame in a stream (mean over the pass cycle)", |b| {
        b.iter_custom(|iterations| {
            let mut spent = Duration::ZERO;
            for _ in 0..iterations {
                let mut source = InjectedSource::from_frames(vec![Frame::luma(empty.clone(), Duration::ZERO); cycle]);
                let started = std::time::Instant::now();
                let _ = black_box(QrScanner::new().scan(&mut source, &ScanCancel::new(), |_| {}));
                spent += started.elapsed();
            }
            spent / cycle as u32
        })
    });

    for pass in std::iter::once(DecodePass::Plain).chain(DecodePass::RECOVERY) {
        group.bench_function(format!("empty frame, {pass:?} pass"), |b| {
            b.iter(|| black_box(decode_pass(black_box(&empty), pass)))
        });
    }
    group.finish();
}

criterion_group!(benches, frames);
criterion_main!(benches);
