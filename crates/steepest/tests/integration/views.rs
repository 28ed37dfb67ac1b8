//! Strided views against a plain reference: every element of a view chain is read back by an
//! index loop over the original; products of views equal products of their copies; writing to
//! a view never changes the tensor it came from.

use crate::common;

use common::all_indices;
use steepest::tensor::Tensor;

fn iota(shape: &[usize]) -> Tensor<f64> {
    let n: usize = shape.iter().product();
    Tensor::new((0..n).map(|v| v as f64 * 0.5 - 3.0).collect(), shape).unwrap()
}

/// Element at a multi-index of a contiguous tensor, by the row-major formula.
fn at(t: &Tensor<f64>, idx: &[usize]) -> f64 {
    let off = idx.iter().zip(t.shape()).fold(0, |acc, (i, n)| acc * n + i);
    t.data()[off]
}

#[test]
fn permute_narrow_and_broadcast_read_the_elements_an_index_loop_reads() {
    let t = iota(&[2, 3, 4, 5]);
    // x[a, b, c] = t[c, a + 1, b, 2 + ...] through permute then narrow, then a broadcast.
    let p = t.permute(&[2, 1, 3, 0]).unwrap(); // [4, 3, 5, 2]
    let n = p.narrow(1, 1, 2).unwrap().narrow(2, 2, 3).unwrap(); // [4, 2, 3, 2]
    assert!(!n.is_contiguous());
    for idx in all_indices(n.shape()) {
        let want = at(&t, &[idx[3], idx[1] + 1, idx[0], idx[2] + 2]);
        assert_eq!(n.at(&idx).unwrap(), want, "{idx:?}");
    }
    let b = n.narrow(0, 1, 1).unwrap().broadcast_as(&[3, 4, 2, 3, 2]).unwrap();
    for idx in all_indices(b.shape()) {
        let want = at(&t, &[idx[4], idx[2] + 1, 1, idx[3] + 2]);
        assert_eq!(b.at(&idx).unwrap(), want, "{idx:?}");
    }
    // The view chain shares the buffer: no element was copied to build it.
    assert_eq!(n.strides(), vec![5, 20, 1, 60]);
    assert_eq!(n.offset(), 20 + 2);
}

#[test]
fn reshape_of_a_view_stays_a_view_where_the_strides_allow_and_copies_otherwise() {
    let t = iota(&[4, 6]);
    // Rows 1..3: contiguous among themselves, so merging them is a view.
    let rows = t.narrow(0, 1, 2).unwrap();
    let r = rows.reshape(&[3, 4]).unwrap();
    assert_eq!(r.offset(), 6);
    assert_eq!(r.data(), &t.data()[6..18]);
    // A block of whole rows is read in place: its elements are the source's, not a copy.
    assert!(std::ptr::eq(rows.data().as_ptr(), t.data()[6..].as_ptr()));
    assert!(std::ptr::eq(r.data().as_ptr(), t.data()[6..].as_ptr()));
    // Columns 1..4 of each row: splitting the narrowed axis is a view, merging across rows is not.
    let cols = t.narrow(1, 1, 4).unwrap();
    let split = cols.reshape(&[4, 2, 2]).unwrap();
    assert_eq!(split.strides(), vec![6, 2, 1]);
    let merged = cols.reshape(&[16]).unwrap();
    assert!(merged.is_contiguous());
    for (k, idx) in all_indices(&[4, 4]).iter().enumerate() {
        assert_eq!(merged.data()[k], at(&t, &[idx[0], idx[1] + 1]));
    }
    // A transpose reshaped: the copy PyTorch's reshape makes, with the same elements.
    let tt = t.transpose().unwrap().reshape(&[24]).unwrap();
    for (k, idx) in all_indices(&[6, 4]).iter().enumerate() {
        assert_eq!(tt.data()[k], at(&t, &[idx[1], idx[0]]));
    }
}

#[test]
fn products_read_views_through_their_strides() {
    // Attention's layout change: [batch, tokens, heads, dim] -> [batch, heads, tokens, dim].
    let q = iota(&[2, 5, 3, 4]).permute(&[0, 2, 1, 3]).unwrap();
    let k = iota(&[2, 5, 3, 4])
        .map(|v| (v * 0.37).sin())
        .permute(&[0, 2, 1, 3])
        .unwrap();
    assert!(!q.is_contiguous() && !k.is_contiguous());
    let scores = q.bmm(&k, false, true).unwrap();
    let want = q.contiguous().bmm(&k.contiguous(), false, true).unwrap();
    assert_eq!(scores.shape(), &[2, 3, 5, 5]);
    assert_eq!(scores, want);
    // Against the sum written out.
    for idx in all_indices(&[2, 3, 5, 5]) {
        let s: f64 = (0..4)
            .map(|d| q.at(&[idx[0], idx[1], idx[2], d]).unwrap() * k.at(&[idx[0], idx[1], idx[3], d]).unwrap())
            .sum();
        assert!((scores.at(&idx).unwrap() - s).abs() < 1e-12);
    }
    // 2-D: a narrowed, transposed block times a broadcast column.
    let a = iota(&[6, 7]).narrow(1, 2, 4).unwrap().transpose().unwrap(); // [4, 6]
    let b = Tensor::new(vec![1.0, -2.0, 0.5, 3.0, 0.0, 1.5], &[6, 1]).unwrap();
    let b = b.broadcast_as(&[6, 3]).unwrap();
    assert_eq!(a.matmul(&b).unwrap(), a.contiguous().matmul(&b.contiguous()).unwrap());
    assert_eq!(
        a.matmul_t(&a, false, true).unwrap(),
        a.contiguous().matmul_t(&a.contiguous(), false, true).unwrap()
    );
}

#[test]
fn writing_to_a_view_leaves_its_source_alone_and_layouts_compare_by_value() {
    let t = iota(&[3, 4]);
    let mut v = t.transpose().unwrap();
    assert_eq!(v, t.transpose().unwrap().contiguous());
    v.data_mut()[0] = 100.0;
    assert!(v.is_contiguous());
    assert_eq!(v.at(&[0, 0]).unwrap(), 100.0);
    assert_eq!(t.at(&[0, 0]).unwrap(), -3.0);
    assert_ne!(v, t.transpose().unwrap());
    // A file holds a view's elements in row-major order, and reads back equal.
    let w = t.narrow(1, 1, 2).unwrap();
    let text = serde_json::to_string(&w).unwrap();
    let back: Tensor<f64> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, w);
    assert_eq!(back.data(), &[-2.5, -2.0, -0.5, 0.0, 1.5, 2.0]);
    // A file whose shape and data disagree is refused.
    assert!(serde_json::from_str::<Tensor<f64>>(r#"{"shape":[2,2],"data":[1.0]}"#).is_err());
}

#[test]
fn bad_views_are_errors() {
    let t = iota(&[2, 3]);
    assert!(t.permute(&[0, 0]).is_err());
    assert!(t.narrow(1, 2, 2).is_err());
    assert!(t.broadcast_as(&[3, 3]).is_err());
    assert!(t.broadcast_as(&[3]).is_err());
    assert!(t.transpose_axes(0, 2).is_err());
    assert!(t.narrow(0, 1, 1).unwrap().reshape(&[4]).is_err());
}
