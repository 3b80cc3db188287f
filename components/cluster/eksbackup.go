//go:build !noeks

package cluster

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/spaceone-pulumi/spaceone/components/kube"
)

// backupBucket gives the backup Jobs their bucket and a role of their own (IRSA): the bucket
// this stack makes (private, encrypted, versioned, old versions expiring; kept when the stack
// is destroyed, like every copy of the data), or the one BackupArgs.Bucket names; the role
// may list, read, write and delete objects in that bucket and nothing else, and only the
// Jobs' service accounts may assume it.
func backupBucket(ctx *pulumi.Context, name string, b *BackupArgs, region string, oidcArn, issuer pulumi.StringOutput,
	opts ...pulumi.ResourceOption) (*BackupBucket, error) {
	var bucket pulumi.StringOutput
	if b.Bucket != "" {
		bucket = pulumi.String(b.Bucket).ToStringOutput()
	} else {
		// Backups outlive destroy: the bucket and its settings stay when the stack goes (its
		// name is in the stack's outputs; backup.s3.bucket gives it to a later stack).
		keep := append(opts, pulumi.RetainOnDelete(true))
		made, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
			BucketPrefix: pulumi.String("spaceone-backups-"),
			Tags:         pulumi.StringMap{kube.PartOfLabel: pulumi.String(kube.PartOf), stackTag: pulumi.String(stackID(ctx))},
		}, keep...)
		if err != nil {
			return nil, fmt.Errorf("creating the backup bucket: %w", err)
		}
		bucket = made.Bucket
		in := append(keep, pulumi.Parent(made))
		if _, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
			Bucket: made.ID(), BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
			IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
		}, in...); err != nil {
			return nil, fmt.Errorf("blocking public access to the backup bucket: %w", err)
		}
		if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
			Bucket: made.ID(),
			Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
				ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
					SseAlgorithm: pulumi.String("AES256"), // S3's own keys: the Jobs' role needs no KMS grant
				},
			}},
		}, in...); err != nil {
			return nil, fmt.Errorf("encrypting the backup bucket: %w", err)
		}
		versioning, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
			Bucket:                  made.ID(),
			VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
		}, in...)
		if err != nil {
			return nil, fmt.Errorf("versioning the backup bucket: %w", err)
		}
		// A backup deleted by keep, or overwritten, stays recoverable for VersionDays.
		if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
			Bucket: made.ID(),
			Rules: s3.BucketLifecycleConfigurationV2RuleArray{s3.BucketLifecycleConfigurationV2RuleArgs{
				Id: pulumi.String("old-versions"), Status: pulumi.String("Enabled"),
				Filter:                         &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
				NoncurrentVersionExpiration:    &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{NoncurrentDays: pulumi.Int(b.VersionDays)},
				AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{DaysAfterInitiation: pulumi.Int(1)},
			}},
		}, append(in, pulumi.DependsOn([]pulumi.Resource{versioning}))...); err != nil {
			return nil, fmt.Errorf("expiring the backup bucket's old versions: %w", err)
		}
		if _, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
			Bucket: made.ID(),
			Policy: made.Arn.ApplyT(func(arn string) (string, error) {
				return policyJSON(statement{Sid: "TLSOnly", Effect: "Deny", Principal: "*", Action: []string{"s3:*"},
					Resource:  []string{arn, arn + "/*"},
					Condition: map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}}})
			}).(pulumi.StringOutput),
		}, in...); err != nil {
			return nil, fmt.Errorf("setting the backup bucket's policy: %w", err)
		}
	}
	var accounts []string
	for _, sa := range b.ServiceAccounts {
		accounts = append(accounts, serviceAccount(b.Namespace, sa))
	}
	access := bucket.ApplyT(func(name string) (string, error) {
		arn := "arn:aws:s3:::" + name
		return policyJSON(
			statement{Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{arn}},
			statement{Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, Resource: []string{arn + "/*"}})
	}).(pulumi.StringOutput)
	role, err := iamRoleWithPolicy(ctx, name, serviceAccountTrust(oidcArn, issuer, accounts...), access, opts...)
	if err != nil {
		return nil, err
	}
	return &BackupBucket{Name: bucket, RoleArn: role.Arn, Region: region}, nil
}

// statement is one statement of an IAM or bucket policy.
type statement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal any            `json:"Principal,omitempty"`
	Action    []string       `json:"Action"`
	Resource  []string       `json:"Resource"`
	Condition map[string]any `json:"Condition,omitempty"`
}

func policyJSON(statements ...statement) (string, error) {
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(b), err
}
