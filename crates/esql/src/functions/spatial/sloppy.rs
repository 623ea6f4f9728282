//! Great-circle distance exactly as Elasticsearch computes it for `ST_DISTANCE` on geo_points.
//!
//! Elasticsearch first snaps both points to the 32-bit grid its geo_point index uses, then applies
//! Lucene's haversine formula on a sphere of radius 6,371,008.7714 m. Lucene evaluates cosine and
//! arc sine with table-driven approximations (Taylor expansions around tabulated points, and the
//! fdlibm polynomial near 1) and drops the last three bits of the intermediate haversine, so the
//! result differs from an exact haversine in the last digits. Reproducing those approximations
//! step by step gives the same doubles as Elasticsearch.

use std::sync::LazyLock;

/// The sphere's radius in meters (the mean Earth radius of WGS 84).
const EARTH_RADIUS_M: f64 = 6_371_008.771_4;

/// Degrees per unit of the 32-bit latitude encoding.
const LAT_STEP: f64 = 1.0 / (4_294_967_296.0 / 180.0);
/// Degrees per unit of the 32-bit longitude encoding.
const LON_STEP: f64 = 1.0 / (4_294_967_296.0 / 360.0);

/// The latitude as the 32-bit geo_point encoding stores it (rounded down to the grid).
pub fn quantize_lat(lat: f64) -> f64 {
    let lat = if lat == 90.0 { prev_double(lat) } else { lat };
    f64::from((lat / LAT_STEP).floor() as i32) * LAT_STEP
}

/// The longitude as the 32-bit geo_point encoding stores it (rounded down to the grid).
pub fn quantize_lon(lon: f64) -> f64 {
    let lon = if lon == 180.0 { prev_double(lon) } else { lon };
    f64::from((lon / LON_STEP).floor() as i32) * LON_STEP
}

/// The largest double below a positive finite `d`.
fn prev_double(d: f64) -> f64 {
    f64::from_bits(d.to_bits() - 1)
}

/// `ST_DISTANCE` of two geo_points (longitude `x`, latitude `y`), in meters.
pub fn geo_distance(x1: f64, y1: f64, x2: f64, y2: f64) -> f64 {
    haversine_meters(quantize_lat(y1), quantize_lon(x1), quantize_lat(y2), quantize_lon(x2))
}

/// Lucene's haversine distance in meters between two points in degrees.
pub fn haversine_meters(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let key = haversine_key(lat1, lon1, lat2, lon2);
    let half = (key * 0.5).sqrt();
    // Java's Math.min propagates NaN.
    let clamped = if half.is_nan() { half } else { half.min(1.0) };
    EARTH_RADIUS_M * 2.0 * asin(clamped)
}

fn haversine_key(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let a = lat1.to_radians();
    let b = lat2.to_radians();
    let dlat = 1.0 - cos(a - b);
    let dlon = 1.0 - cos((lon1 - lon2).to_radians());
    let h = dlat + cos(a) * cos(b) * dlon;
    // Lucene clears the three lowest bits so that later rounding cannot create ties.
    f64::from_bits(h.to_bits() & !7u64)
}

/// Tables and constants of the approximations.
struct Tables {
    sin: Vec<f64>,
    cos: Vec<f64>,
    cos_indexer: f64,
    cos_delta_hi: f64,
    cos_delta_lo: f64,
    cos_max: f64,
    asin_max: f64,
    asin_indexer: f64,
    asin_delta: f64,
    /// Per tabulated point: asin and its first four derivatives divided by k!.
    asin: Vec<[f64; 5]>,
}

const COS_TABLE: usize = (1 << 11) + 1;
const ASIN_TABLE: usize = (1 << 13) + 1;

/// The first 33 bits of pi/2, and the rest.
const PIO2_HI: f64 = f64::from_bits(0x3FF9_21FB_5440_0000);
const PIO2_LO: f64 = f64::from_bits(0x3DD0_B461_1A62_6331);

static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    let delta_hi = 4.0 * PIO2_HI / (COS_TABLE - 1) as f64;
    let delta_lo = 4.0 * PIO2_LO / (COS_TABLE - 1) as f64;
    let indexer = 1.0 / (delta_hi + delta_lo);
    let pi = (COS_TABLE - 1) / 2;
    let (mut sin, mut cos) = (Vec::with_capacity(COS_TABLE), Vec::with_capacity(COS_TABLE));
    for i in 0..COS_TABLE {
        let angle = i as f64 * delta_hi + i as f64 * delta_lo;
        let mut s = libm::sin(angle);
        let mut c = libm::cos(angle);
        // Exact zeros where sine or cosine vanish.
        if i == pi || i == 2 * pi {
            s = 0.0;
        } else if i == pi / 2 || i == 3 * pi / 2 {
            c = 0.0;
        }
        sin.push(s);
        cos.push(c);
    }
    let asin_max = libm::sin(73.0f64.to_radians());
    let asin_delta = asin_max / (ASIN_TABLE - 1) as f64;
    let mut asin = Vec::with_capacity(ASIN_TABLE);
    for i in 0..ASIN_TABLE {
        let x = i as f64 * asin_delta;
        let inv = 1.0 / (1.0 - x * x);
        let inv_0_5 = libm::sqrt(inv);
        let inv_1_5 = inv_0_5 * inv;
        let inv_2_5 = inv_1_5 * inv;
        let inv_3_5 = inv_2_5 * inv;
        asin.push([
            libm::asin(x),
            inv_0_5,
            (x * inv_1_5) * (1.0 / 2.0),
            ((1.0 + 2.0 * x * x) * inv_2_5) * (1.0 / 6.0),
            ((5.0 + 2.0 * x * (2.0 + x * (5.0 - 2.0 * x))) * inv_3_5) * (1.0 / 24.0),
        ]);
    }
    Tables {
        sin,
        cos,
        cos_indexer: indexer,
        cos_delta_hi: delta_hi,
        cos_delta_lo: delta_lo,
        cos_max: (f64::from(i32::MAX >> 9) / indexer) * 0.99,
        asin_max,
        asin_indexer: 1.0 / asin_delta,
        asin_delta,
        asin,
    }
});

/// Lucene's approximate cosine.
fn cos(a: f64) -> f64 {
    let t = &*TABLES;
    let a = if a < 0.0 { -a } else { a };
    if a > t.cos_max {
        return libm::cos(a);
    }
    let index = (a * t.cos_indexer + 0.5) as i32;
    let delta = (a - f64::from(index) * t.cos_delta_hi) - f64::from(index) * t.cos_delta_lo;
    let i = (index & (COS_TABLE as i32 - 2)) as usize;
    let (c, s) = (t.cos[i], t.sin[i]);
    c + delta * (-s + delta * (-c * (1.0 / 2.0) + delta * (s * (1.0 / 6.0) + delta * c * (1.0 / 24.0))))
}

/// Lucene's approximate arc sine.
fn asin(a: f64) -> f64 {
    let t = &*TABLES;
    let (a, negate) = if a < 0.0 { (-a, true) } else { (a, false) };
    let result = if a <= t.asin_max {
        let index = (a * t.asin_indexer + 0.5) as usize;
        let delta = a - index as f64 * t.asin_delta;
        let [v, d1, d2, d3, d4] = t.asin[index];
        v + delta * (d1 + delta * (d2 + delta * (d3 + delta * d4)))
    } else if a < 1.0 {
        asin_near_one(a)
    } else if a == 1.0 {
        std::f64::consts::FRAC_PI_2
    } else {
        return f64::NAN;
    };
    if negate { -result } else { result }
}

/// fdlibm's arc sine for arguments close to 1.
fn asin_near_one(a: f64) -> f64 {
    const PIO2_HI: f64 = f64::from_bits(0x3FF9_21FB_5444_2D18);
    const PIO2_LO: f64 = f64::from_bits(0x3C91_A626_3314_5C07);
    const PS: [f64; 6] = [
        f64::from_bits(0x3fc5_5555_5555_5555),
        f64::from_bits(0xbfd4_d612_03eb_6f7d),
        f64::from_bits(0x3fc9_c155_0e88_4455),
        f64::from_bits(0xbfa4_8228_b568_8f3b),
        f64::from_bits(0x3f49_efe0_7501_b288),
        f64::from_bits(0x3f02_3de1_0dfd_f709),
    ];
    const QS: [f64; 4] = [
        f64::from_bits(0xc003_3a27_1c8a_2d4b),
        f64::from_bits(0x4000_2ae5_9c59_8ac8),
        f64::from_bits(0xbfe6_066c_1b8d_0159),
        f64::from_bits(0x3fb3_b8c5_b12e_9282),
    ];
    let t = (1.0 - a) * 0.5;
    let p = t * (PS[0] + t * (PS[1] + t * (PS[2] + t * (PS[3] + t * (PS[4] + t * PS[5])))));
    let q = 1.0 + t * (QS[0] + t * (QS[1] + t * (QS[2] + t * QS[3])));
    let s = t.sqrt();
    let z = s + s * (p / q);
    PIO2_HI - ((z + z) - PIO2_LO)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values are Elasticsearch's answers (its ES|QL spatial conformance tests).
    #[test]
    fn distances_match_elastic() {
        let d = |x1, y1, x2, y2| geo_distance(x1, y1, x2, y2);
        assert_eq!(d(1.0, 1.0, 0.0, 0.0), 157249.5916907891);
        assert_eq!(d(-1.0, -1.0, 0.0, 0.0), 157249.6015756357);
        assert_eq!(d(-1.0, 1.0, 0.0, 0.0), 157249.5982806869);
        assert_eq!(d(1.0, -1.0, 0.0, 0.0), 157249.59498573805);
        assert_eq!(d(1.0, 0.0, 0.0, 0.0), 111195.07310665186);
        assert_eq!(d(-1.0, 0.0, 0.0, 0.0), 111195.08242688453);
        assert_eq!(d(0.0, 1.0, 0.0, 0.0), 111195.07776676829);
        assert_eq!(d(0.0, -1.0, 0.0, 0.0), 111195.08242688453);
        assert_eq!(d(-90.82814, 29.79511, -90.79731509999999, 29.8835389), 10272.529272836206);
        assert_eq!(d(12.6493508684508, 55.6285017221528, 12.5683, 55.6761), 7339.573896618216);
        assert_eq!(d(10.9168095241445, 63.472029381717, 10.9189, 63.4712), 138.86985803478004);
        assert_eq!(d(50.1477245727844, 26.2703680854768, 50.15, 26.2667), 466.7321285739462);
        assert_eq!(d(-17.0334398691538, 20.9290523064387, -17.0333, 20.9333), 472.54642026512636);
        assert_eq!(d(-116.595724400418, 31.7977139760569, -116.5911, 31.7958), 486.1022373716486);
        assert_eq!(d(166.91613965882, -0.545037226856384, 166.9209, -0.5477), 606.4899254580574);
    }

    #[test]
    fn far_and_degenerate() {
        assert_eq!(geo_distance(0.0, 0.0, 0.0, 0.0), 0.0);
        // Antipodes: the arc sine of 1.
        let half = geo_distance(0.0, 0.0, 180.0, 0.0);
        assert!((half - std::f64::consts::PI * EARTH_RADIUS_M).abs() < 1.0, "{half}");
        assert!(geo_distance(-71.34, 41.12, 139.69, 35.69) > 10_000_000.0);
    }

    #[test]
    fn quantizes_down() {
        assert_eq!(quantize_lat(0.0), 0.0);
        assert!(quantize_lat(90.0) < 90.0);
        assert!(quantize_lon(180.0) < 180.0);
        assert!(quantize_lat(45.0) <= 45.0 && 45.0 - quantize_lat(45.0) < 1e-7);
        assert!(quantize_lon(-45.5) <= -45.5);
    }
}
