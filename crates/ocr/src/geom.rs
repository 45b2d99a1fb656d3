//! The plane geometry text detection needs: connected regions of a bitmap,
//! their convex hulls and minimum-area rectangles, and quadrilateral means.
//!
//! Written here rather than taken from a crate: imageproc's contours and
//! rectangles round to integer points (OpenCV's `minAreaRect`, which the
//! reference uses, keeps floats), and a region's hull only needs each run's
//! two ends, which a run-length labelling gives in one pass.

/// A point in pixels.
pub type Point = [f32; 2];

/// Extreme points of the 8-connected regions of `bitmap` (row-major,
/// `width` wide, nonzero = set): for each region, the two ends of each of
/// its runs, which have the same convex hull as its outer contour. At most
/// `max_regions` regions are returned, in raster order of their first pixel.
pub fn regions(bitmap: &[u8], width: usize, max_regions: usize) -> Vec<Vec<[i32; 2]>> {
    if width == 0 {
        return Vec::new();
    }
    // Runs of the previous and the current row: (start, end inclusive, label).
    let mut parent: Vec<u32> = Vec::new();
    let mut runs: Vec<(i32, i32, i32, u32)> = Vec::new(); // (y, x0, x1, label)
    let mut prev: Vec<(usize, usize, u32)> = Vec::new();
    let mut cur: Vec<(usize, usize, u32)> = Vec::new();
    for (y, row) in bitmap.chunks(width).enumerate() {
        cur.clear();
        let mut x = 0;
        let mut p = 0; // first previous run that may still touch
        while x < row.len() {
            if row[x] == 0 {
                x += 1;
                continue;
            }
            let start = x;
            while x < row.len() && row[x] != 0 {
                x += 1;
            }
            let end = x - 1;
            let mut label = None;
            // 8-connectivity: a previous run touches if it reaches one
            // column beyond either end.
            while p < prev.len() && prev[p].1 + 1 < start {
                p += 1;
            }
            let mut q = p;
            while q < prev.len() && prev[q].0 <= end + 1 {
                let other = find(&mut parent, prev[q].2);
                label = Some(match label {
                    None => other,
                    Some(l) => union(&mut parent, l, other),
                });
                q += 1;
            }
            let label = label.unwrap_or_else(|| {
                parent.push(parent.len() as u32);
                (parent.len() - 1) as u32
            });
            cur.push((start, end, label));
            runs.push((y as i32, start as i32, end as i32, label));
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    // Regions numbered by their first run, which is raster order.
    let mut index: Vec<u32> = vec![u32::MAX; parent.len()];
    let mut out: Vec<Vec<[i32; 2]>> = Vec::new();
    for &(y, x0, x1, label) in &runs {
        let root = find(&mut parent, label) as usize;
        if index[root] == u32::MAX {
            if out.len() >= max_regions {
                continue;
            }
            index[root] = out.len() as u32;
            out.push(Vec::new());
        }
        let points = &mut out[index[root] as usize];
        points.push([x0, y]);
        if x1 != x0 {
            points.push([x1, y]);
        }
    }
    out
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let up = parent[parent[x as usize] as usize];
        parent[x as usize] = up;
        x = up;
    }
    x
}

fn union(parent: &mut [u32], a: u32, b: u32) -> u32 {
    let (ra, rb) = (find(parent, a), find(parent, b));
    let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
    parent[hi as usize] = lo;
    lo
}

/// The convex hull of integer points, counter-clockwise in image
/// coordinates, without collinear points (Andrew's monotone chain).
pub fn hull(points: &[[i32; 2]]) -> Vec<[i64; 2]> {
    let mut pts: Vec<[i64; 2]> = points
        .iter()
        .map(|p| [i64::from(p[0]), i64::from(p[1])])
        .collect();
    pts.sort_unstable();
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: [i64; 2], a: [i64; 2], b: [i64; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut lower: Vec<[i64; 2]> = Vec::new();
    for &p in &pts {
        while lower.len() >= 2 && cross(lower[lower.len() - 2], lower[lower.len() - 1], p) <= 0 {
            lower.pop();
        }
        lower.push(p);
    }
    let mut upper: Vec<[i64; 2]> = Vec::new();
    for &p in pts.iter().rev() {
        while upper.len() >= 2 && cross(upper[upper.len() - 2], upper[upper.len() - 1], p) <= 0 {
            upper.pop();
        }
        upper.push(p);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    lower
}

/// A rotated rectangle: its four corners in order around it, and its two
/// side lengths.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RotatedRect {
    /// Corners, each next to the one before.
    pub corners: [Point; 4],
    /// The lengths of the sides corners 0–1 and 1–2.
    pub sides: [f32; 2],
}

impl RotatedRect {
    /// The shorter side.
    pub fn short_side(&self) -> f32 {
        self.sides[0].min(self.sides[1])
    }

    /// The same rectangle with every side pushed out by `d`.
    pub fn grown(&self, d: f32) -> RotatedRect {
        let c = self.corners;
        let center = [(c[0][0] + c[2][0]) / 2.0, (c[0][1] + c[2][1]) / 2.0];
        let unit = |a: Point, b: Point| {
            let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
            let n = (dx * dx + dy * dy).sqrt();
            if n > 0.0 {
                [dx / n, dy / n]
            } else {
                [0.0, 0.0]
            }
        };
        // Half-extents along the two side directions.
        let u = unit(c[0], c[1]);
        let v = unit(c[1], c[2]);
        let (hu, hv) = (self.sides[0] / 2.0 + d, self.sides[1] / 2.0 + d);
        let at = |su: f32, sv: f32| {
            [
                center[0] + su * hu * u[0] + sv * hv * v[0],
                center[1] + su * hu * u[1] + sv * hv * v[1],
            ]
        };
        RotatedRect {
            corners: [at(-1.0, -1.0), at(1.0, -1.0), at(1.0, 1.0), at(-1.0, 1.0)],
            sides: [self.sides[0] + 2.0 * d, self.sides[1] + 2.0 * d],
        }
    }
}

/// The minimum-area rectangle around a convex hull (rotating calipers: the
/// best rectangle has a side on one of the hull's edges). `None` for fewer
/// than one point; a degenerate hull gives a rectangle with a zero side.
pub fn min_area_rect(hull: &[[i64; 2]]) -> Option<RotatedRect> {
    let pts: Vec<[f64; 2]> = hull.iter().map(|p| [p[0] as f64, p[1] as f64]).collect();
    match pts.len() {
        0 => return None,
        1 => {
            let p = [pts[0][0] as f32, pts[0][1] as f32];
            return Some(RotatedRect {
                corners: [p; 4],
                sides: [0.0, 0.0],
            });
        }
        _ => {}
    }
    let mut best: Option<(f64, [[f64; 2]; 4], [f64; 2])> = None;
    for i in 0..pts.len() {
        let a = pts[i];
        let b = pts[(i + 1) % pts.len()];
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let n = (dx * dx + dy * dy).sqrt();
        if n == 0.0 {
            continue;
        }
        let u = [dx / n, dy / n];
        let v = [-u[1], u[0]];
        let (mut u0, mut u1, mut v0, mut v1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in &pts {
            let pu = (p[0] - a[0]) * u[0] + (p[1] - a[1]) * u[1];
            let pv = (p[0] - a[0]) * v[0] + (p[1] - a[1]) * v[1];
            u0 = u0.min(pu);
            u1 = u1.max(pu);
            v0 = v0.min(pv);
            v1 = v1.max(pv);
        }
        let area = (u1 - u0) * (v1 - v0);
        if best.as_ref().is_none_or(|(b, _, _)| area < *b) {
            let at =
                |su: f64, sv: f64| [a[0] + su * u[0] + sv * v[0], a[1] + su * u[1] + sv * v[1]];
            best = Some((
                area,
                [at(u0, v0), at(u1, v0), at(u1, v1), at(u0, v1)],
                [u1 - u0, v1 - v0],
            ));
        }
    }
    let (_, c, s) = best?;
    let f = |p: [f64; 2]| [p[0] as f32, p[1] as f32];
    Some(RotatedRect {
        corners: [f(c[0]), f(c[1]), f(c[2]), f(c[3])],
        sides: [s[0] as f32, s[1] as f32],
    })
}

/// The reference's order for a rectangle's corners (its `get_mini_boxes`):
/// sorted by x, the left pair gives top-left then bottom-left by y, the
/// right pair top-right then bottom-right; returned clockwise from the
/// top-left.
pub fn mini_box_order(corners: [Point; 4]) -> [Point; 4] {
    let mut p = corners;
    // A stable sort, as Python's `sorted`.
    p.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (tl, bl) = if p[1][1] > p[0][1] {
        (p[0], p[1])
    } else {
        (p[1], p[0])
    };
    let (tr, br) = if p[3][1] > p[2][1] {
        (p[2], p[3])
    } else {
        (p[3], p[2])
    };
    [tl, tr, br, bl]
}

/// The reference's `order_points_clockwise`: left pair and right pair by x,
/// each ordered by y, as top-left, top-right, bottom-right, bottom-left.
pub fn clockwise(points: [Point; 4]) -> [Point; 4] {
    let mut p = points;
    p.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (mut left, mut right) = ([p[0], p[1]], [p[2], p[3]]);
    left.sort_by(|a, b| a[1].total_cmp(&b[1]));
    right.sort_by(|a, b| a[1].total_cmp(&b[1]));
    [left[0], right[0], right[1], left[1]]
}

/// The area and perimeter of a polygon.
pub fn area_perimeter(poly: &[Point]) -> (f32, f32) {
    let (mut twice, mut len) = (0.0f64, 0.0f64);
    for i in 0..poly.len() {
        let a = poly[i];
        let b = poly[(i + 1) % poly.len()];
        twice += f64::from(a[0]) * f64::from(b[1]) - f64::from(b[0]) * f64::from(a[1]);
        len += (f64::from(b[0] - a[0])).hypot(f64::from(b[1] - a[1]));
    }
    ((twice / 2.0).abs() as f32, len as f32)
}

/// The mean of `map` (row-major, `width` × `height`) over the pixels a
/// convex quadrilateral covers, edges included, as the reference's
/// `box_score_fast` computes it (the corners truncated to whole pixels
/// relative to the box's bounding rectangle). 0 for an empty cover.
pub fn quad_mean(map: &[f32], width: usize, height: usize, quad: &[Point; 4]) -> f32 {
    if width == 0 || height == 0 {
        return 0.0;
    }
    let clampi = |v: f32, hi: usize| (v as i64).clamp(0, hi as i64 - 1) as usize;
    let xs = quad.iter().map(|p| p[0]);
    let ys = quad.iter().map(|p| p[1]);
    let xmin = clampi(xs.clone().fold(f32::MAX, f32::min).floor(), width);
    let xmax = clampi(xs.fold(f32::MIN, f32::max).ceil(), width);
    let ymin = clampi(ys.clone().fold(f32::MAX, f32::min).floor(), height);
    let ymax = clampi(ys.fold(f32::MIN, f32::max).ceil(), height);
    // Corners relative to the bounding rectangle, truncated as int32.
    let q: Vec<[f32; 2]> = quad
        .iter()
        .map(|p| {
            [
                ((p[0] - xmin as f32) as i32) as f32,
                ((p[1] - ymin as f32) as i32) as f32,
            ]
        })
        .collect();
    let (mw, mh) = (xmax - xmin + 1, ymax - ymin + 1);
    let (mut sum, mut n) = (0.0f64, 0usize);
    for ry in 0..mh {
        let y = ry as f32;
        let (mut lo, mut hi) = (f32::MAX, f32::MIN);
        for i in 0..4 {
            let (a, b) = (q[i], q[(i + 1) % 4]);
            if (a[1] - y) * (b[1] - y) > 0.0 {
                continue;
            }
            if a[1] == b[1] {
                lo = lo.min(a[0].min(b[0]));
                hi = hi.max(a[0].max(b[0]));
            } else {
                let x = a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
                lo = lo.min(x);
                hi = hi.max(x);
            }
        }
        if lo > hi {
            continue;
        }
        let x0 = (lo.round().max(0.0)) as usize;
        let x1 = (hi.round() as i64).min(mw as i64 - 1);
        if x1 < 0 || x0 as i64 > x1 {
            continue;
        }
        let row = &map[(ymin + ry) * width..(ymin + ry + 1) * width];
        for &v in &row[xmin + x0..=xmin + x1 as usize] {
            sum += f64::from(v);
            n += 1;
        }
    }
    if n == 0 { 0.0 } else { (sum / n as f64) as f32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_eight_connected_and_capped() {
        // Two diagonal pixels join; a separate blob stays apart.
        #[rustfmt::skip]
        let bitmap = [
            1, 0, 0, 0, 1,
            0, 1, 0, 0, 1,
            0, 0, 0, 0, 0,
            1, 1, 0, 0, 0,
        ];
        let r = regions(&bitmap, 5, 10);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0], vec![[0, 0], [1, 1]]);
        assert_eq!(r[1], vec![[4, 0], [4, 1]]);
        assert_eq!(r[2], vec![[0, 3], [1, 3]]);
        assert_eq!(regions(&bitmap, 5, 2).len(), 2);
        // A U shape whose arms meet only at the bottom is one region.
        #[rustfmt::skip]
        let u = [
            1, 0, 1,
            1, 0, 1,
            1, 1, 1,
        ];
        assert_eq!(regions(&u, 3, 10).len(), 1);
    }

    #[test]
    fn rectangles_fit_their_points() {
        let pts: Vec<[i32; 2]> = (0..10).flat_map(|x| [[x, 0], [x, 3]]).collect();
        let r = min_area_rect(&hull(&pts)).unwrap();
        let mut sides = r.sides;
        sides.sort_by(f32::total_cmp);
        assert!((sides[0] - 3.0).abs() < 1e-4 && (sides[1] - 9.0).abs() < 1e-4);
        let ordered = mini_box_order(r.corners);
        let rounded: Vec<[i32; 2]> = ordered
            .iter()
            .map(|p| [p[0].round() as i32, p[1].round() as i32])
            .collect();
        assert_eq!(rounded, vec![[0, 0], [9, 0], [9, 3], [0, 3]]);
        // A 45° line of pixels gives a rectangle along it.
        let diag: Vec<[i32; 2]> = (0..20).flat_map(|i| [[i, i], [i + 2, i]]).collect();
        let r = min_area_rect(&hull(&diag)).unwrap();
        assert!(r.short_side() < 2.0, "{r:?}");
        // Growing pushes every side out.
        let g = RotatedRect {
            corners: [[0.0, 0.0], [4.0, 0.0], [4.0, 2.0], [0.0, 2.0]],
            sides: [4.0, 2.0],
        }
        .grown(1.0);
        assert_eq!(g.corners[0], [-1.0, -1.0]);
        assert_eq!(g.corners[2], [5.0, 3.0]);
    }

    #[test]
    fn quad_means_cover_edges_and_stay_in_bounds() {
        let mut map = vec![0.0f32; 10 * 10];
        for y in 2..=4 {
            for x in 3..=6 {
                map[y * 10 + x] = 1.0;
            }
        }
        let q = [[3.0, 2.0], [6.0, 2.0], [6.0, 4.0], [3.0, 4.0]];
        assert!((quad_mean(&map, 10, 10, &q) - 1.0).abs() < 1e-6);
        // Far outside the map: clamped, never out of bounds.
        let far = [
            [-50.0, -50.0],
            [500.0, -50.0],
            [500.0, 500.0],
            [-50.0, 500.0],
        ];
        let m = quad_mean(&map, 10, 10, &far);
        assert!(m > 0.0 && m < 1.0);
        assert_eq!(quad_mean(&map, 0, 0, &q), 0.0);
    }
}
