"""The AWS pipeline: resource model, plan, execute; and the Lambda loader."""
