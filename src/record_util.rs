//! Small helpers over the record that several screens need.

use phr_record::Record;

/// The reference of the patient the record is about: the first Patient resource from an EHR or
/// file, else the patient-entered one. Exports and shares point at it.
pub fn patient_reference(record: &Record) -> String {
    let mut fallback = None;
    for (source, key, _) in record.entries() {
        if key.resource_type() != "Patient" {
            continue;
        }
        let entry_key = phr_record::EntryKey::new(source.clone(), key.clone());
        if let Some(r) = record.reference_to(&entry_key) {
            if source.is_ehr() {
                return r;
            }
            fallback.get_or_insert(r);
        }
    }
    fallback.unwrap_or_else(|| "Patient/patient".into())
}
