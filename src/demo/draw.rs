//! The demo listings' photos, drawn: a car from the side, front and rear, its interior,
//! a wheel, the engine bay and a scratch, each drawn at 640 x 400 (16:10), in the car's colour.

use super::Body;
use image::{Rgb, RgbImage};

const W: u32 = 640;
const H: u32 = 400;

/// What a demo photo shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum View {
    Side,
    Front,
    Rear,
    Interior,
    Wheel,
    Engine,
    Damage,
}

fn shade(c: [u8; 3], f: f32) -> Rgb<u8> {
    let channel = |v: u8| (v as f32 * f).clamp(0.0, 255.0) as u8;
    Rgb([channel(c[0]), channel(c[1]), channel(c[2])])
}

/// A showroom: a light wall fading down to a grey floor from `floor`.
fn showroom(floor: u32) -> RgbImage {
    RgbImage::from_fn(W, H, |_, y| {
        if y < floor {
            let t = y as f32 / floor as f32;
            Rgb([
                (226.0 - 30.0 * t) as u8,
                (232.0 - 26.0 * t) as u8,
                (240.0 - 20.0 * t) as u8,
            ])
        } else {
            let t = (y - floor) as f32 / (H - floor).max(1) as f32;
            Rgb([
                (150.0 - 40.0 * t) as u8,
                (154.0 - 40.0 * t) as u8,
                (160.0 - 40.0 * t) as u8,
            ])
        }
    })
}

fn fill_rect(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, colour: Rgb<u8>) {
    for py in y..(y + h).min(H) {
        for px in x..(x + w).min(W) {
            img.put_pixel(px, py, colour);
        }
    }
}

pub fn fill_ellipse(img: &mut RgbImage, cx: u32, cy: u32, rx: u32, ry: u32, colour: Rgb<u8>) {
    let (w, h) = img.dimensions();
    for y in cy.saturating_sub(ry)..(cy + ry).min(h) {
        for x in cx.saturating_sub(rx)..(cx + rx).min(w) {
            let dx = (x as f32 - cx as f32) / rx as f32;
            let dy = (y as f32 - cy as f32) / ry as f32;
            if dx * dx + dy * dy <= 1.0 {
                img.put_pixel(x, y, colour);
            }
        }
    }
}

/// A wheel seen from the side: tyre, rim and `spokes` spokes.
fn wheel(img: &mut RgbImage, cx: u32, cy: u32, r: u32, spokes: u32) {
    fill_ellipse(img, cx, cy, r, r, Rgb([28, 28, 30]));
    let rim = r * 6 / 10;
    fill_ellipse(img, cx, cy, rim, rim, Rgb([190, 194, 200]));
    fill_ellipse(
        img,
        cx,
        cy,
        rim * 8 / 10,
        rim * 8 / 10,
        Rgb([120, 124, 130]),
    );
    for k in 0..spokes {
        let angle = k as f32 * std::f32::consts::TAU / spokes as f32;
        for step in 0..(rim * 8 / 10) {
            for width in -3i32..=3 {
                let x = cx as f32 + angle.cos() * step as f32 - angle.sin() * width as f32;
                let y = cy as f32 + angle.sin() * step as f32 + angle.cos() * width as f32;
                if x >= 0.0 && y >= 0.0 && (x as u32) < W && (y as u32) < H {
                    img.put_pixel(x as u32, y as u32, Rgb([200, 204, 210]));
                }
            }
        }
    }
    fill_ellipse(img, cx, cy, rim / 5, rim / 5, Rgb([90, 92, 96]));
}

/// A car seen from the side on a showroom floor.
pub fn side(body: Body, colour: [u8; 3]) -> RgbImage {
    let mut img = showroom(300);
    let (left, right, sill, shoulder, roof, cabin_l, cabin_r) = match body {
        Body::Sedan => (90, 550, 285, 215, 150, 200, 420),
        Body::Suv => (100, 540, 285, 190, 115, 185, 500),
        Body::Hatch => (130, 510, 285, 205, 140, 200, 490),
    };
    fill_ellipse(
        &mut img,
        (left + right) / 2,
        sill + 12,
        (right - left) / 2 + 20,
        14,
        Rgb([96, 98, 104]),
    );
    for y in shoulder..sill {
        let inset = if y < shoulder + 18 {
            (shoulder + 18 - y) / 2
        } else {
            0
        };
        for x in (left + inset)..(right - inset) {
            let f = 0.75 + 0.35 * (1.0 - (y - shoulder) as f32 / (sill - shoulder) as f32);
            img.put_pixel(x, y, shade(colour, f.min(1.1)));
        }
    }
    for y in roof..shoulder {
        let t = (y - roof) as f32 / (shoulder - roof) as f32;
        let l = cabin_l as f32 - 45.0 * t;
        let r = cabin_r as f32 + 35.0 * t;
        for x in (l as u32)..(r as u32) {
            let window = y > roof + 10
                && (x as f32) > l + 12.0
                && (x as f32) < r - 12.0
                && !(((cabin_l + cabin_r) / 2)..((cabin_l + cabin_r) / 2 + 10)).contains(&x);
            let px = if window {
                Rgb([70, 96, 124])
            } else {
                shade(colour, 0.9)
            };
            img.put_pixel(x, y, px);
        }
    }
    fill_ellipse(
        &mut img,
        right - 10,
        shoulder + 22,
        10,
        7,
        Rgb([255, 226, 150]),
    );
    fill_ellipse(&mut img, left + 8, shoulder + 22, 8, 7, Rgb([200, 40, 40]));
    for cx in [left + 85, right - 85] {
        wheel(&mut img, cx, sill, 42, 5);
    }
    img
}

/// The car from the front (`rear`: from behind): body, glass, lights, plate or grille.
pub fn end_on(colour: [u8; 3], rear: bool) -> RgbImage {
    let mut img = showroom(300);
    fill_ellipse(&mut img, 320, 300, 230, 16, Rgb([96, 98, 104]));
    // Tyres below the body.
    fill_rect(&mut img, 130, 250, 50, 55, Rgb([28, 28, 30]));
    fill_rect(&mut img, 460, 250, 50, 55, Rgb([28, 28, 30]));
    // Lower body, then the cabin narrowing to the roof.
    for y in 170..280 {
        let f = 0.8 + 0.3 * (1.0 - (y - 170) as f32 / 110.0);
        fill_rect(&mut img, 115, y, 410, 1, shade(colour, f));
    }
    for y in 90..170 {
        let t = (y - 90) as f32 / 80.0;
        let half = 130.0 + 70.0 * t;
        let l = (320.0 - half) as u32;
        let glass = y > 100 && y < 162;
        fill_rect(&mut img, l, y, (half * 2.0) as u32, 1, shade(colour, 0.92));
        if glass {
            fill_rect(
                &mut img,
                l + 14,
                y,
                (half * 2.0) as u32 - 28,
                1,
                Rgb([70, 96, 124]),
            );
        }
    }
    let light = if rear {
        Rgb([200, 36, 40])
    } else {
        Rgb([255, 236, 180])
    };
    fill_rect(&mut img, 135, 190, 90, 26, light);
    fill_rect(&mut img, 415, 190, 90, 26, light);
    if rear {
        // The number plate.
        fill_rect(&mut img, 270, 222, 100, 26, Rgb([248, 248, 248]));
        fill_rect(&mut img, 282, 232, 76, 6, Rgb([40, 40, 40]));
    } else {
        // The grille.
        fill_rect(&mut img, 250, 200, 140, 40, Rgb([30, 32, 36]));
        for y in (204..238).step_by(8) {
            fill_rect(&mut img, 256, y, 128, 2, Rgb([140, 144, 150]));
        }
    }
    img
}

/// The dashboard and front seats, in one of three trims.
pub fn interior(trim: usize) -> RgbImage {
    let seat = [[40, 40, 44], [196, 176, 146], [110, 112, 118]][trim % 3];
    let mut img = RgbImage::from_fn(W, H, |_, y| {
        let t = y as f32 / H as f32;
        Rgb([
            (60.0 + 30.0 * t) as u8,
            (64.0 + 30.0 * t) as u8,
            (72.0 + 30.0 * t) as u8,
        ])
    });
    // The windscreen's light, then the dashboard across.
    fill_rect(&mut img, 0, 0, W, 110, Rgb([168, 190, 212]));
    fill_rect(&mut img, 0, 110, W, 90, Rgb([34, 35, 38]));
    fill_rect(&mut img, 280, 130, 120, 60, Rgb([20, 60, 90]));
    // The steering wheel: a ring with a hub.
    fill_ellipse(&mut img, 170, 210, 95, 95, Rgb([22, 22, 24]));
    fill_ellipse(&mut img, 170, 210, 78, 78, Rgb([34, 35, 38]));
    fill_rect(&mut img, 90, 200, 160, 18, Rgb([22, 22, 24]));
    fill_ellipse(&mut img, 170, 210, 26, 26, Rgb([50, 50, 54]));
    // The seats.
    for x0 in [380u32, 510] {
        for y in 250..H {
            let f = 0.85 + 0.25 * ((y - 250) as f32 / 150.0);
            fill_rect(&mut img, x0, y, 110, 1, shade(seat, f));
        }
        fill_rect(&mut img, x0 + 20, 230, 70, 26, shade(seat, 0.9));
    }
    img
}

/// A close-up of a wheel against the car's side.
pub fn wheel_close_up(colour: [u8; 3]) -> RgbImage {
    let mut img = RgbImage::from_fn(W, H, |_, y| {
        shade(colour, 0.8 + 0.3 * (1.0 - y as f32 / H as f32))
    });
    fill_rect(&mut img, 0, 340, W, 60, Rgb([70, 72, 76]));
    fill_ellipse(&mut img, 320, 215, 175, 175, Rgb([18, 18, 20]));
    wheel(&mut img, 320, 215, 165, 10);
    img
}

/// The engine bay under an open bonnet.
pub fn engine() -> RgbImage {
    let mut img = RgbImage::from_pixel(W, H, Rgb([46, 48, 52]));
    fill_rect(&mut img, 120, 100, 400, 210, Rgb([74, 76, 82]));
    fill_rect(&mut img, 150, 130, 340, 60, Rgb([150, 30, 34]));
    for k in 0..4 {
        fill_ellipse(&mut img, 200 + k * 80, 160, 22, 18, Rgb([190, 192, 198]));
    }
    fill_rect(&mut img, 40, 60, 90, 110, Rgb([30, 30, 34]));
    fill_rect(&mut img, 520, 200, 80, 90, Rgb([200, 170, 40]));
    fill_rect(&mut img, 160, 220, 320, 12, Rgb([24, 24, 26]));
    img
}

/// A panel of the car with a scratch across it.
pub fn scratch(colour: [u8; 3]) -> RgbImage {
    let mut img = RgbImage::from_fn(W, H, |x, y| {
        shade(colour, 0.85 + 0.25 * ((x + y) as f32 / (W + H) as f32))
    });
    for step in 0..360 {
        let x = 140 + step;
        let y = 230 - step / 3 + ((step as f32 / 9.0).sin() * 5.0) as u32;
        fill_rect(&mut img, x, y, 3, 4, Rgb([222, 222, 222]));
    }
    img
}

/// The picture of `view`, `variant` picking the colour, trim or body style it is drawn in.
pub fn draw(view: View, body: Body, colour: [u8; 3], trim: usize) -> RgbImage {
    match view {
        View::Side => side(body, colour),
        View::Front => end_on(colour, false),
        View::Rear => end_on(colour, true),
        View::Interior => interior(trim),
        View::Wheel => wheel_close_up(colour),
        View::Engine => engine(),
        View::Damage => scratch(colour),
    }
}
