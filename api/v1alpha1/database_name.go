package v1alpha1

// DatabaseName is the name of a SQL Server user database. It must be a regular identifier (a letter
// or underscore, then letters, digits, `_`, `@`, `$`, `#` or `-`), at most 128 characters, and not a
// system database. The operator still quotes every name it sends (`]` doubled), but refusing odd
// names at admission keeps backup file paths and T-SQL simple and safe.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=128
// +kubebuilder:validation:Pattern=`^[A-Za-z_][A-Za-z0-9_@$#-]*$`
// +kubebuilder:validation:XValidation:rule="!(self.lowerAscii() in ['master', 'model', 'msdb', 'tempdb', 'mssqlsystemresource', 'distribution'])",message="system databases (master, model, msdb, tempdb, distribution) cannot be shipped or failed over"
type DatabaseName string
